package dev.bhatti.agent;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Gives memory back once the agent falls idle after work. The serial collector shrinks the heap only
 * after a full collection, and nothing else triggers one in a process this quiet, so a single file
 * transfer would keep its buffers' worth of heap resident for the VM's whole life. A full collection
 * of a heap of a few MiB takes milliseconds; it runs at most once per idle spell.
 */
final class IdleTrim {

    static final Duration QUIET = Duration.ofSeconds(5);

    private static final AtomicLong lastRequest = new AtomicLong(System.nanoTime());
    private static volatile boolean workSinceTrim;

    private IdleTrim() {}

    /** A request arrived: the agent is busy. */
    static void touch() {
        lastRequest.set(System.nanoTime());
        workSinceTrim = true;
    }

    static void start() {
        Thread.ofVirtual().name("idle-trim").start(() -> {
            try {
                while (true) {
                    Thread.sleep(QUIET);
                    if (workSinceTrim && System.nanoTime() - lastRequest.get() >= QUIET.toNanos()) {
                        workSinceTrim = false;
                        System.gc();
                    }
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
    }
}
