package dev.bhatti.agent;

import dev.bhatti.protocol.Message;
import dev.bhatti.protocol.Message.Channel;
import dev.bhatti.protocol.Stream;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A long-lived command that outlives the streams attached to it: a shell on a pseudo-terminal or a
 * piped process (stdout and stderr merged). Output goes to a 64 KiB scrollback and to the one attached
 * stream; losing the stream only detaches (no hang-up signal). Detached longer than its idle limit,
 * the whole process group is killed.
 */
final class Session {

    static final int SCROLLBACK = 64 * 1024;

    /** The I/O of either kind of session. */
    interface Io {
        int read(byte[] buf) throws IOException;

        void write(byte[] data) throws IOException;

        void resize(int rows, int cols) throws IOException;

        int waitFor() throws IOException, InterruptedException;

        long pid();

        void close();
    }

    final String id;
    final List<String> argv;
    final boolean tty;
    final long createdAt = System.currentTimeMillis();
    private final long maxIdleSeconds;
    private final Io io;
    private final Scrollback scrollback = new Scrollback(SCROLLBACK);
    private final SessionRegistry registry;
    private Stream attached;           // guarded by this
    private long detachedSince;        // guarded by this
    private volatile boolean running = true;
    private volatile int exitCode;

    Session(String id, List<String> argv, boolean tty, long maxIdleSeconds, Io io, SessionRegistry registry) {
        this.id = id;
        this.argv = List.copyOf(argv);
        this.tty = tty;
        this.maxIdleSeconds = maxIdleSeconds;
        this.io = io;
        this.registry = registry;
        this.detachedSince = System.nanoTime();
    }

    /** Starts the output reader and the exit waiter; blocking native calls, hence platform threads. */
    void start() {
        Thread reader = Thread.ofPlatform().daemon().name("session-" + id + "-out").start(this::pumpOutput);
        Thread.ofPlatform().daemon().name("session-" + id + "-wait").start(() -> awaitExit(reader));
    }

    synchronized Message.SessionInfo info() {
        return new Message.SessionInfo(id, argv, tty, running, exitCode, attached != null, createdAt);
    }

    boolean running() { return running; }

    void signal(int signal) {
        if (running) Libc.killGroup(io.pid(), signal);
    }

    /** Attaches {@code stream} and serves it until it detaches, is replaced, or the session ends. */
    void serve(Stream stream, boolean ifDetached) throws IOException, InterruptedException {
        synchronized (this) {
            if (attached != null && ifDetached) {
                stream.send(new Message.Error("attached", "session " + id + " already has a client attached"));
                return;
            }
            if (attached != null) {
                Stream previous = attached;
                try {
                    previous.send(new Message.Error("detached", "another client attached to session " + id));
                } catch (IOException ignored) {
                    // it was gone anyway
                }
            }
            attached = stream;
            stream.send(info());
            byte[] replay = scrollback.snapshot();
            if (replay.length > 0) stream.send(new Message.Data(Channel.STDOUT, replay));
            if (!running) {
                stream.send(new Message.Exit(exitCode, false));
                attached = null;
                return;
            }
        }
        control(stream);
    }

    /** Input from the attached client: keystrokes, resizes, signals, detach. */
    private void control(Stream stream) throws InterruptedException {
        try {
            while (isAttached(stream)) {
                Message m = stream.poll(500, TimeUnit.MILLISECONDS);
                switch (m) {
                    case null -> { }
                    case Message.Data d when d.channel() == Channel.STDIN -> {
                        try {
                            io.write(d.bytes());
                        } catch (IOException e) {
                            // the process closed its input; keystrokes are dropped
                        }
                    }
                    case Message.Resize r -> {
                        if (r.rows() > 0 && r.cols() > 0 && r.rows() < 10_000 && r.cols() < 10_000) io.resize(r.rows(), r.cols());
                    }
                    case Message.Kill k -> signal(k.signal());
                    case Message.Detach d -> {
                        detach(stream);
                        return;
                    }
                    default -> { }
                }
            }
        } catch (IOException e) {
            detach(stream); // the host went away: keep running, no SIGHUP
        }
    }

    private synchronized boolean isAttached(Stream stream) { return attached == stream; }

    synchronized void detach(Stream stream) {
        if (attached != stream) return;
        attached = null;
        detachedSince = System.nanoTime();
        stream.finish();
    }

    /** Kills the session if it has been detached for longer than its idle limit. */
    synchronized void reapIfIdle() {
        if (!running || attached != null || maxIdleSeconds <= 0) return;
        if (System.nanoTime() - detachedSince > TimeUnit.SECONDS.toNanos(maxIdleSeconds)) {
            Log.info("session " + id + " idle for " + maxIdleSeconds + " s while detached: killing it");
            signal(Libc.SIGKILL);
        }
    }

    private void pumpOutput() {
        byte[] buf = new byte[16 * 1024];
        try {
            int n;
            while ((n = io.read(buf)) > 0) {
                scrollback.add(buf, 0, n);
                deliver(Arrays.copyOf(buf, n));
            }
        } catch (IOException e) {
            // the terminal or pipe is gone
        }
    }

    private synchronized void deliver(byte[] data) {
        if (attached == null) return;
        try {
            attached.send(new Message.Data(Channel.STDOUT, data));
        } catch (IOException e) {
            attached = null; // the client vanished; output stays in the scrollback
            detachedSince = System.nanoTime();
        }
    }

    private void awaitExit(Thread reader) {
        int code;
        try {
            code = io.waitFor();
            reader.join(2_000); // output written just before the exit
        } catch (IOException | InterruptedException e) {
            code = -1;
        }
        synchronized (this) {
            exitCode = code;
            running = false;
            if (attached != null) {
                try {
                    attached.send(new Message.Exit(code, false));
                } catch (IOException ignored) {
                    // client gone
                }
                attached.finish();
                attached = null;
            }
        }
        io.close();
        registry.exited(this);
    }

    /** A session on a pseudo-terminal. */
    static Io terminal(Pty pty) {
        return new Io() {
            @Override public int read(byte[] buf) throws IOException { return pty.read(buf); }
            @Override public void write(byte[] data) throws IOException { pty.write(data); }
            @Override public void resize(int rows, int cols) throws IOException { pty.resize(rows, cols); }
            @Override public int waitFor() throws IOException { return pty.waitFor(); }
            @Override public long pid() { return pty.pid(); }
            @Override public void close() { pty.close(); }
        };
    }

    /** A session on pipes (stderr merged into stdout). */
    static Io piped(Process p) {
        InputStream out = p.getInputStream();
        OutputStream in = p.getOutputStream();
        return new Io() {
            @Override public int read(byte[] buf) throws IOException { return out.read(buf); }
            @Override public void write(byte[] data) throws IOException { in.write(data); in.flush(); }
            @Override public void resize(int rows, int cols) { }
            @Override public int waitFor() throws InterruptedException { return p.waitFor(); }
            @Override public long pid() { return p.pid(); }
            @Override public void close() {
                try { in.close(); } catch (IOException ignored) { }
            }
        };
    }
}
