package dev.bhatti.server.task;

import dev.bhatti.server.auth.ApiKeys;
import dev.bhatti.server.error.DomainException;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Long work that runs on the server while the client polls it (an image pull): its state, its progress
 * per part (the layers of a pull), its failure, and a cancel. A task belongs to the user who started it.
 */
public final class Tasks {
    public enum State { RUNNING, DONE, FAILED, CANCELLED }

    /** One task. {@code done}/{@code total} hold bytes per part. */
    public static final class Task {
        final String id;
        final String userId;
        final String what;
        final Instant started;
        volatile State state = State.RUNNING;
        volatile String phase = "";
        volatile String error = "";
        volatile String result = "";
        volatile AtomicLongArray done = new AtomicLongArray(0);
        volatile long[] total = new long[0];
        volatile Thread thread;
        volatile Instant ended;

        Task(String id, String userId, String what, Instant started) {
            this.id = id;
            this.userId = userId;
            this.what = what;
            this.started = started;
        }

        public String id() { return id; }
        public State state() { return state; }
        public String phase() { return phase; }
        public String error() { return error; }
        public String result() { return result; }
        public String what() { return what; }
        public Instant started() { return started; }

        /** Bytes done and to do, per part. */
        public List<long[]> parts() {
            var d = done;
            long[] t = total;
            var out = new java.util.ArrayList<long[]>();
            for (int i = 0; i < t.length; i++) out.add(new long[] {d.get(i), t[i]});
            return out;
        }

        public void parts(long[] sizes) {
            total = sizes.clone();
            done = new AtomicLongArray(sizes.length);
        }

        public void progress(int part, long bytes) { done.set(part, bytes); }

        public void phase(String p) { phase = p; }
    }

    /** The work of a task; its return value is the task's result (the image's name, say). */
    @FunctionalInterface
    public interface Work {
        String run(Task task) throws Exception;
    }

    private final Map<String, Task> tasks = new ConcurrentHashMap<>();
    private final Clock clock;

    public Tasks(Clock clock) { this.clock = clock; }

    /** How long a finished task can still be read (its client polls it to the end, or comes back later). */
    static final Duration KEPT = Duration.ofHours(1);

    /** Starts {@code work} on a virtual thread and returns its task at once. */
    public Task start(String userId, String what, Work work) {
        forgetOld();
        var task = new Task("task_" + ApiKeys.randomHex(6), userId, what, clock.instant());
        tasks.put(task.id, task);
        task.thread = Thread.ofVirtual().name(task.id).start(() -> {
            try {
                String result = work.run(task);
                synchronized (task) {
                    if (task.state != State.RUNNING) return; // cancelled as it ended: cancelled it stays
                    task.result = result;
                    task.state = State.DONE;
                }
            } catch (InterruptedException e) {
                task.state = State.CANCELLED;
            } catch (Exception e) {
                if (task.state != State.CANCELLED) {
                    task.error = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
                    task.state = State.FAILED;
                }
            } finally {
                task.ended = clock.instant();
            }
        });
        return task;
    }

    /** Finished tasks older than {@link #KEPT} go: the server runs for months. */
    private void forgetOld() {
        Instant cutoff = clock.instant().minus(KEPT);
        tasks.values().removeIf(t -> t.ended != null && t.ended.isBefore(cutoff));
    }

    /** The user's task; another user's is not found. */
    public Task get(String userId, String id) {
        Task t = tasks.get(id);
        if (t == null || !t.userId.equals(userId)) throw DomainException.notFound("task not found: " + id);
        return t;
    }

    /** Cancels a running task (its work is interrupted and cleans up); a finished one is left as it is. */
    public Task cancel(String userId, String id) {
        Task t = get(userId, id);
        synchronized (t) {
            if (t.state != State.RUNNING) return t;
            t.state = State.CANCELLED;
        }
        Thread th = t.thread;
        if (th != null) th.interrupt();
        return t;
    }
}
