package dev.bhatti.agent;

import dev.bhatti.protocol.Message;
import dev.bhatti.protocol.Message.Channel;
import dev.bhatti.protocol.Stream;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * Runs one piped command for one stream: its own session and process group (so kill and timeout
 * reach every descendant), as the requested user, with stdout and stderr kept apart.
 */
final class ExecSession {

    /** Output a command's exited children may still flush after it exits, before we stop waiting. */
    private static final long DRAIN_GRACE_MILLIS = 2_000;
    static final int EXIT_TIMEOUT = 124;

    private final AgentConfig config;
    private final Stream stream;
    private final Message.ExecRequest request;
    private volatile boolean finished;

    ExecSession(AgentConfig config, Stream stream, Message.ExecRequest request) {
        this.config = config;
        this.stream = stream;
        this.request = request;
    }

    void run() {
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
        ProcessBuilder pb;
        switch (Launch.prepare(config, request.argv(), request.env(), request.cwd(), request.user())) {
            case Launch.Invalid i -> { stream.send(new Message.Error("bad_request", i.message())); return; }
            case Launch.NotRunnable n -> {
                stream.send(new Message.Data(Channel.STDERR, ("bhatti: " + n.message() + "\n").getBytes(StandardCharsets.UTF_8)));
                stream.send(new Message.Exit(n.exitCode(), false));
                return;
            }
            case Launch.Ready r -> pb = r.builder();
        }
        Process process;
        try {
            process = pb.start();
        } catch (IOException e) {
            stream.send(new Message.Error("spawn_failed", "could not start " + request.argv().getFirst() + ": " + e.getMessage()));
            return;
        }
        long pgid = process.pid(); // setsid made the child the leader of its own session and group
        Libc.resetOomScore(pgid);
        Path group = config.contain("exec", pgid);
        if (!request.stdin()) process.getOutputStream().close();

        Thread out = Thread.ofVirtual().start(() -> pump(process.getInputStream(), Channel.STDOUT));
        Thread err = Thread.ofVirtual().start(() -> pump(process.getErrorStream(), Channel.STDERR));
        Thread control = Thread.ofVirtual().start(() -> control(process, pgid, group));

        boolean timedOut = false;
        if (request.timeoutMillis() > 0) {
            if (!process.waitFor(request.timeoutMillis(), TimeUnit.MILLISECONDS)) {
                timedOut = true;
                Cgroups.kill(group); // every descendant at once, even ones forking right now
                Libc.killGroup(pgid, Libc.SIGKILL);
                process.waitFor();
            }
        } else {
            process.waitFor();
        }
        if (timedOut) {
            Cgroups.kill(group);
            Libc.killGroup(pgid, Libc.SIGKILL); // stragglers that left the leader
        }
        // Output written before exit is already in the pipes; children that keep them open
        // (e.g. a server started with '&') must not hold the reply hostage.
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(DRAIN_GRACE_MILLIS);
        out.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
        err.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
        finished = true;
        control.interrupt();
        int code = timedOut ? EXIT_TIMEOUT : process.exitValue();
        stream.send(new Message.Exit(code, timedOut));
    }

    private void pump(InputStream in, Channel channel) {
        byte[] buf = new byte[32 * 1024];
        try (in) {
            int n;
            while ((n = in.read(buf)) > 0) {
                if (finished) return;
                stream.send(new Message.Data(channel, java.util.Arrays.copyOf(buf, n)));
            }
        } catch (IOException e) {
            // pipe closed or channel gone; the exit path reports what matters
        }
    }

    /** Host-to-guest messages while the command runs: stdin, end of stdin, signals. */
    private void control(Process process, long pgid, Path group) {
        OutputStream stdin = process.getOutputStream();
        try {
            while (!finished) {
                Message m = stream.poll(500, TimeUnit.MILLISECONDS);
                switch (m) {
                    case null -> { }
                    case Message.Data d when d.channel() == Channel.STDIN && request.stdin() -> {
                        try {
                            stdin.write(d.bytes());
                            stdin.flush();
                        } catch (IOException e) {
                            // the command closed its stdin; further input is discarded
                        }
                    }
                    case Message.Eof e when e.channel() == Channel.STDIN -> closeQuietly(stdin);
                    case Message.Kill k -> {
                        if (k.signal() == Libc.SIGKILL) Cgroups.kill(group);
                        Libc.killGroup(pgid, k.signal());
                    }
                    default -> { }
                }
            }
        } catch (IOException e) {
            closeQuietly(stdin); // host gone: the command sees end of input, as after a hang-up
        } catch (InterruptedException e) {
            // finished
        }
    }

    private static void closeQuietly(OutputStream s) {
        try { s.close(); } catch (IOException ignored) { }
    }
}
