package dev.bhatti.server.task;

import dev.bhatti.server.error.DomainException;
import dev.bhatti.server.testing.TestClock;
import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

class TasksTest {
    final Tasks tasks = new Tasks(Clock.systemUTC());

    @Test
    void aTaskReportsProgressAndItsResultToItsOwnerOnly() throws Exception {
        var go = new CountDownLatch(1);
        var t = tasks.start("u1", "pull x", task -> {
            task.parts(new long[] {10, 20});
            task.progress(0, 10);
            go.await();
            task.progress(1, 20);
            return "x";
        });
        await().atMost(Duration.ofSeconds(5)).until(() -> t.parts().size() == 2 && t.parts().get(0)[0] == 10);
        assertThat(t.state()).isEqualTo(Tasks.State.RUNNING);
        assertThatThrownBy(() -> tasks.get("u2", t.id())).isInstanceOf(DomainException.NotFound.class);
        go.countDown();
        await().atMost(Duration.ofSeconds(5)).until(() -> t.state() == Tasks.State.DONE);
        assertThat(t.result()).isEqualTo("x");
        assertThat(t.parts().get(1)).containsExactly(20, 20);
    }

    @Test
    void aFailureIsKeptAndACancelInterruptsTheWork() {
        var failed = tasks.start("u1", "pull y", task -> { throw new IllegalStateException("registry said no"); });
        await().atMost(Duration.ofSeconds(5)).until(() -> failed.state() == Tasks.State.FAILED);
        assertThat(failed.error()).isEqualTo("registry said no");

        var endless = tasks.start("u1", "pull z", task -> {
            new CountDownLatch(1).await(); // until interrupted
            return "never";
        });
        tasks.cancel("u1", endless.id());
        await().atMost(Duration.ofSeconds(5)).until(() -> endless.state() == Tasks.State.CANCELLED);
        assertThat(endless.result()).isEmpty();
    }

    @Test
    void finishedTasksAreForgottenAfterAnHourRunningOnesNever() {
        var clock = new TestClock();
        var kept = new Tasks(clock);
        var finished = kept.start("u1", "pull a", task -> "a");
        var running = kept.start("u1", "pull b", task -> {
            new CountDownLatch(1).await();
            return "never";
        });
        await().atMost(Duration.ofSeconds(5)).until(() -> finished.ended != null);
        clock.advance(Tasks.KEPT.plusMinutes(1));
        kept.start("u1", "pull c", task -> "c");
        assertThatThrownBy(() -> kept.get("u1", finished.id())).isInstanceOf(DomainException.NotFound.class);
        assertThat(kept.get("u1", running.id()).state()).isEqualTo(Tasks.State.RUNNING);
        kept.cancel("u1", running.id());
    }
}
