package dev.bhatti.server.events;

import dev.bhatti.server.store.EventRecord;
import dev.bhatti.server.store.Store;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Instant;
import java.time.Duration;

/**
 * Records who did what. Recording never fails the operation it describes: a store that cannot take
 * the event logs it instead. Details never hold secret values or keys.
 */
public final class Events {
    private static final Logger log = LoggerFactory.getLogger(Events.class);

    private final Store store;

    public Events(Store store) { this.store = store; }

    public void record(String type, String userName, String sandboxName, String detail) {
        try {
            store.recordEvent(new EventRecord(0, Instant.now(), type, nn(userName), nn(sandboxName), nn(detail)));
        } catch (RuntimeException e) {
            log.warn("event {} (user {}, sandbox {}) not recorded: {}", type, userName, sandboxName, e.getMessage());
        }
    }

    /** How long events are kept. */
    public static final Duration RETENTION = Duration.ofDays(90);

    /** Every hour, drops events older than {@link #RETENTION}, so the log cannot grow without end. */
    public Thread startRetention() {
        return Thread.ofVirtual().name("event-retention").start(() -> {
            while (!Thread.currentThread().isInterrupted()) {
                try {
                    int n = store.deleteEventsBefore(Instant.now().minus(RETENTION));
                    if (n > 0) log.info("removed {} events older than {} days", n, RETENTION.toDays());
                    Thread.sleep(Duration.ofHours(1));
                } catch (InterruptedException e) {
                    return;
                } catch (RuntimeException e) {
                    log.warn("event retention: {}", e.getMessage());
                }
            }
        });
    }

    private static String nn(String s) { return s == null ? "" : s; }
}
