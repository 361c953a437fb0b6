package dev.bhatti.server.volume.backup;

import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

class BackupSchedulerTest {

    static final BackupConfig.Schedule HOURLY = new BackupConfig.Schedule("data", "admin", "0 * * * *", 24);
    static final BackupConfig.Schedule NIGHTLY = new BackupConfig.Schedule("db", "alice", "30 3 * * *", 7);

    static Instant at(String s) { return Instant.parse(s); }

    @Test
    void entriesAreDueAtTheirCronTimeOnceEach() {
        var due = new BackupScheduler.Due(List.of(HOURLY, NIGHTLY), at("2026-12-06T10:59:30Z"), Clock.systemUTC());

        assertThat(due.next()).isEqualTo(at("2026-12-06T11:00:00Z"));
        assertThat(due.take(at("2026-12-06T10:59:59Z"))).isEmpty();
        assertThat(due.take(at("2026-12-06T11:00:00Z"))).containsExactly(HOURLY);
        assertThat(due.take(at("2026-12-06T11:00:00Z"))).as("once per due time").isEmpty();
        assertThat(due.take(at("2026-12-06T11:59:00Z"))).isEmpty();
        assertThat(due.next()).isEqualTo(at("2026-12-06T12:00:00Z"));
        assertThat(due.take(at("2026-12-06T12:00:07Z"))).as("late by seconds is still due").containsExactly(HOURLY);
    }

    @Test
    void timesMissedWhileAsleepAreNotMadeUp() {
        var due = new BackupScheduler.Due(List.of(HOURLY, NIGHTLY), at("2026-12-06T10:59:30Z"), Clock.systemUTC());

        assertThat(due.take(at("2026-12-07T05:10:00Z"))).as("18 hours late: each entry once").containsExactly(HOURLY, NIGHTLY);
        assertThat(due.next()).isEqualTo(at("2026-12-07T06:00:00Z"));
        assertThat(due.take(at("2026-12-07T05:59:59Z"))).isEmpty();
    }

    @Test
    void cronTimesAreInTheClocksZone() {
        var berlin = Clock.system(ZoneId.of("Europe/Berlin"));
        var due = new BackupScheduler.Due(List.of(NIGHTLY), at("2026-12-06T12:00:00Z"), berlin);
        assertThat(due.next()).as("03:30 in Berlin in winter").isEqualTo(at("2026-12-07T02:30:00Z"));
        var july = new BackupScheduler.Due(List.of(NIGHTLY), at("2026-07-06T12:00:00Z"), berlin);
        assertThat(july.next()).as("and in summer").isEqualTo(at("2026-07-07T01:30:00Z"));
    }

    @Test
    void theSchedulerRunsADueEntryOnItsOwnThreadAndStops() throws Exception {
        // the clock reads 10:59:30 when the scheduler starts, 11:00:01 from then on: the hourly entry is due at once
        var reads = new AtomicInteger();
        var clock = new Clock() {
            public ZoneId getZone() { return ZoneOffset.UTC; }
            public Clock withZone(ZoneId zone) { return this; }
            public Instant instant() { return reads.getAndIncrement() == 0 ? at("2026-12-06T10:59:30Z") : at("2026-12-06T11:00:01Z"); }
        };
        var runs = new ArrayBlockingQueue<String>(10);
        var scheduler = BackupScheduler.start(List.of(HOURLY, NIGHTLY), (user, volume, keep) -> {
            runs.add(user + "/" + volume + "/" + keep + " on " + (Thread.currentThread().isVirtual() ? "virtual" : "platform"));
            throw new IllegalStateException("a failing job is logged, not fatal");
        }, clock);

        assertThat(runs.poll(10, TimeUnit.SECONDS)).isEqualTo("admin/data/24 on virtual");
        scheduler.close();
        assertThat(runs).as("nothing else was due").isEmpty();
    }

    @Test
    void withoutEntriesNothingRuns() throws Exception {
        BackupScheduler.start(List.of(), (u, v, k) -> { throw new AssertionError(); }).close();
    }
}
