package dev.bhatti.agent;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Events waiting to be sent, bounded and coalesced. While events wait (the host reads slower than the
 * guest writes, or a burst arrives between two sends) a "modified" for a path that already has a waiting
 * "created" or "modified" is dropped: a file written in many pieces is one event, and the reader looks
 * at the file when it gets that event anyway. Every other event is kept, in order. More than {@code limit}
 * waiting events means the reader has fallen behind for good: {@link #add} says so and the watch ends.
 */
final class EventQueue {

    private final int limit;
    private final List<WatchEvent> waiting = new ArrayList<>();
    /** The latest waiting event of each path. */
    private final Map<String, WatchEvent> latest = new HashMap<>();
    private boolean closed;
    private long coalesced;

    EventQueue(int limit) { this.limit = limit; }

    /** Queues an event; false if the queue is full (the event is not kept). */
    synchronized boolean add(WatchEvent e) {
        if (e.type().equals(WatchEvent.MODIFIED)) {
            WatchEvent last = latest.get(e.path());
            if (last != null && (last.type().equals(WatchEvent.CREATED) || last.type().equals(WatchEvent.MODIFIED))) {
                coalesced++;
                return true;
            }
        }
        if (waiting.size() >= limit) return false;
        waiting.add(e);
        latest.put(e.path(), e);
        notifyAll();
        return true;
    }

    /** No more events will come; {@link #take} returns what is left, then null. */
    synchronized void close() {
        closed = true;
        notifyAll();
    }

    /**
     * Everything waiting, after waiting up to {@code timeout} for something; empty on a timeout, null once
     * closed and drained.
     */
    synchronized List<WatchEvent> take(long timeout, TimeUnit unit) throws InterruptedException {
        long deadline = System.nanoTime() + unit.toNanos(timeout);
        while (waiting.isEmpty() && !closed) {
            long left = deadline - System.nanoTime();
            if (left <= 0) return List.of();
            TimeUnit.NANOSECONDS.timedWait(this, left);
        }
        if (waiting.isEmpty()) return null;
        var batch = List.copyOf(waiting);
        waiting.clear();
        latest.clear();
        return batch;
    }

    synchronized int size() { return waiting.size(); }

    synchronized long coalesced() { return coalesced; }
}
