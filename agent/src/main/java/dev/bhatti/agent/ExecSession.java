package dev.bhatti.agent;

import dev.bhatti.protocol.Message;
import dev.bhatti.protocol.Message.Channel;
import dev.bhatti.protocol.Stream;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * Runs one piped command for one stream: its own session, process group and cgroup (so kill and
 * timeout reach every descendant), as the requested user, with stdout and stderr kept apart.
 */
final class ExecSession {

    private final AgentConfig config;
    private final Stream stream;
    private final Message.ExecRequest request;
    private volatile boolean finished;

    ExecSession(AgentConfig config, Stream stream, Message.ExecRequest request) {
        this.config = config;
        this.stream = stream;
        this.request = request;
    }

    /**
     * Runs the command on a pooled platform thread (the spawn, the credential switch and poll(2) block in
     * native code, which would pin a virtual thread's carrier) and returns when it is answered.
     */
    void run() {
        Future<?> done = BLOCKING.submit(this::runHere);
        try {
            done.get();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException r) throw r; // reported by the dispatcher as an internal error
            if (e.getCause() instanceof Error err) throw err;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void runHere() {
        try {
            runChecked();
        } catch (IOException e) {
            // The host went away mid-command: nothing left to tell it.
            Log.info("exec on stream " + stream.id() + " lost its channel: " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            finished = true;
            stream.finish();
        }
    }

    private void runChecked() throws IOException, InterruptedException {
        Launch.Ready ready;
        switch (Launch.prepare(config, request.argv(), request.env(), request.cwd(), request.user())) {
            case Launch.Invalid i -> { stream.send(new Message.Error("bad_request", i.message())); return; }
            case Launch.NotRunnable n -> {
                stream.send(new Message.Data(Channel.STDERR, ("bhatti: " + n.message() + "\n").getBytes(StandardCharsets.UTF_8)));
                stream.send(new Message.Exit(n.exitCode(), false));
                return;
            }
            case Launch.Ready r -> ready = r;
        }
        PipedChild child;
        try {
            child = PipedChild.spawn(ready, request.stdin());
        } catch (IOException e) {
            if (e instanceof Native.SpawnError se && (se.errno == Native.EACCES || se.errno == Native.ENOENT)) {
                // said as a shell says it: the user may not run the program, or may not enter the directory
                boolean denied = se.errno == Native.EACCES;
                String who = ready.user().name().isEmpty() ? "uid " + ready.user().uid() : ready.user().name();
                String line = "bhatti: " + request.argv().getFirst()
                        + (denied ? ": permission denied (as " + who + " in " + ready.cwd() + ")\n" : ": not found\n");
                stream.send(new Message.Data(Channel.STDERR, line.getBytes(StandardCharsets.UTF_8)));
                stream.send(new Message.Exit(denied ? Launch.EXIT_NOT_EXECUTABLE : Launch.EXIT_NOT_FOUND, false));
            } else {
                stream.send(new Message.Error("spawn_failed", "could not start " + request.argv().getFirst() + ": " + e.getMessage()));
            }
            return;
        }
        long pgid = child.pid; // the leader of its own session and process group
        Libc.resetOomScore(pgid);
        Path group = config.lease(pgid);
        Thread control = Thread.ofVirtual().start(() -> control(child, pgid, group));
        ChildWatch.Result end;
        try {
            end = ChildWatch.watch(child, request.timeoutMillis(),
                    (channel, bytes) -> stream.send(new Message.Data(channel, bytes)), () -> kill(pgid, group));
        } finally {
            finished = true;
            control.interrupt();
            child.closeStdin();
        }
        stream.send(new Message.Exit(end.exitCode(), end.timedOut()));
        // After the reply. Nothing may signal the group once it serves the next command: a control
        // thread stuck writing to a stdin nobody reads leaves the group out of the pool.
        boolean quiet = control.join(Duration.ofSeconds(2));
        config.release(group, quiet);
    }

    /**
     * Platform threads for the calls that block in native code, kept between commands, and let go 5 s
     * after a burst: an idle agent holds no stacks for the execs it ran (IdleTrim then gives the rest back).
     */
    private static final ExecutorService BLOCKING = new ThreadPoolExecutor(0, Integer.MAX_VALUE, 5, TimeUnit.SECONDS,
            new SynchronousQueue<>(), Thread.ofPlatform().daemon().name("exec-", 0).factory());

    private static void kill(long pgid, Path group) {
        Cgroups.kill(group); // every descendant at once, even ones forking right now
        Libc.killGroup(pgid, Libc.SIGKILL);
    }

    /** Host-to-guest messages while the command runs: stdin, end of stdin, signals. */
    private void control(PipedChild child, long pgid, Path group) {
        try {
            while (!finished) {
                Message m = stream.poll(500, TimeUnit.MILLISECONDS);
                switch (m) {
                    case null -> { }
                    case Message.Data d when d.channel() == Channel.STDIN && request.stdin() -> {
                        try {
                            Native.write(child.stdin, d.bytes());
                        } catch (IOException e) {
                            // the command closed its stdin; further input is discarded
                        }
                    }
                    case Message.Eof e when e.channel() == Channel.STDIN -> child.closeStdin();
                    case Message.Kill k -> {
                        if (k.signal() == Libc.SIGKILL) Cgroups.kill(group);
                        Libc.killGroup(pgid, k.signal());
                    }
                    default -> { }
                }
            }
        } catch (IOException e) {
            child.closeStdin(); // host gone: the command sees end of input, as after a hang-up
        } catch (InterruptedException e) {
            // finished
        }
    }
}
