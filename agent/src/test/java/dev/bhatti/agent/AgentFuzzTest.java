package dev.bhatti.agent;

import dev.bhatti.protocol.Codec;
import dev.bhatti.protocol.Connection;
import dev.bhatti.protocol.Frame;
import dev.bhatti.protocol.FrameIO;
import dev.bhatti.protocol.Fuzz;
import dev.bhatti.protocol.Message;
import dev.bhatti.protocol.ProtocolException;
import dev.bhatti.protocol.RandomMessages;
import dev.bhatti.protocol.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.Pipe;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The real agent, in-process, over real pipes, fed random operations and mutated frames. Everything it
 * would run is first made harmless by {@link SafeOpenings} (fixed programs, paths under a temp dir, no
 * clock or network changes): this runs as root on the host, not in a VM. Checked after every batch:
 * a ping is answered or the connection closed (then the agent serves a new one, as after a host
 * reconnect); every operation opened intact gets its final answer; the agent never sends a malformed
 * frame, never answers "internal" (an exception that escaped a handler), and no thread dies of one.
 * At the end a plain exec still works.
 */
class AgentFuzzTest {

    private static final long DEADLINE_SECONDS = 20;

    @TempDir Path dir;
    private AgentMain agent;
    private SafeOpenings safe;
    private ServerSocket echo;
    private final List<Throwable> uncaught = new CopyOnWriteArrayList<>();
    private final Set<String> internal = ConcurrentHashMap.newKeySet();
    private Thread.UncaughtExceptionHandler previousHandler;

    @BeforeEach
    void start() throws IOException {
        Path root = Files.createDirectory(dir.resolve("root"));
        Path workspace = root.resolve("workspace");
        Files.createDirectories(workspace.resolve("dir"));
        Files.writeString(workspace.resolve("a.txt"), "one\ntwo\nthree\n");
        Files.writeString(workspace.resolve("dir/b"), "b");
        Path passwd = Files.writeString(root.resolve("passwd"), "root:x:0:0:root:/root:/bin/sh\ntester:x:1000:1000::" + workspace + ":/bin/sh\n");
        agent = new AgentMain(new AgentConfig(passwd, workspace, "setsid", "setpriv", Libc.geteuid() == 0, root.resolve("environ")));
        echo = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread.ofVirtual().start(this::echoLoop);
        safe = new SafeOpenings(root, echo.getLocalPort());
        previousHandler = Thread.getDefaultUncaughtExceptionHandler();
        Thread.setDefaultUncaughtExceptionHandler((t, e) -> uncaught.add(new AssertionError("thread " + t.getName() + " died", e)));
    }

    @AfterEach
    void stop() throws IOException {
        Thread.setDefaultUncaughtExceptionHandler(previousHandler);
        if (echo != null) echo.close();
    }

    private void echoLoop() {
        while (!echo.isClosed()) {
            try {
                Socket s = echo.accept();
                Thread.ofVirtual().start(() -> {
                    try (s) {
                        s.getInputStream().transferTo(s.getOutputStream());
                    } catch (IOException ignored) {
                        // the relay went away
                    }
                });
            } catch (IOException closed) {
                return;
            }
        }
    }

    /** The host end: raw bytes out, every frame the agent sends decoded (strictly) by a reader thread. */
    private final class Host implements AutoCloseable {
        final OutputStream out;
        final InputStream in;
        final LinkedBlockingQueue<Message> control = new LinkedBlockingQueue<>();
        final Map<Integer, List<Message>> streams = new ConcurrentHashMap<>();
        volatile boolean ended;
        /** Hellos the agent sent: a second one means it took a new host hello and dropped the streams open then. */
        final java.util.concurrent.atomic.AtomicInteger hellos = new java.util.concurrent.atomic.AtomicInteger();
        int nextStream = 1;
        final Map<Integer, Message> sentOpenings = new HashMap<>();

        Host() throws IOException {
            var toAgent = Pipe.open();
            var toHost = Pipe.open();
            var io = new FrameIO(Channels.newInputStream(toAgent.source()), Channels.newOutputStream(toHost.sink()));
            Connection.server(io, AgentMain.SOFTWARE, (stream, opening) -> {
                Message harmless = safe.confine(opening);
                if (harmless != null) {
                    agent.onStream(stream, harmless);
                    return;
                }
                try {
                    stream.send(new Message.Error("fuzz", "not run on the host"));
                } catch (IOException ignored) {
                    // closed
                }
            });
            out = Channels.newOutputStream(toAgent.sink());
            in = Channels.newInputStream(toHost.source());
            var reader = new FrameIO(in, OutputStream.nullOutputStream());
            Thread.ofPlatform().daemon().name("fuzz-host-reader").start(() -> {
                try {
                    Frame f;
                    while ((f = reader.read()) != null) {
                        Message m;
                        try {
                            m = Codec.decode(f).orElseThrow(() -> new ProtocolException("unknown type"));
                        } catch (ProtocolException e) {
                            uncaught.add(new AssertionError("the agent sent a malformed frame: " + e.getMessage()));
                            break;
                        }
                        if (m instanceof Message.Error e && e.code().equals("internal")) internal.add(e.message());
                        if (m instanceof Message.Hello) hellos.incrementAndGet();
                        if (f.stream() == 0) control.add(m);
                        else streams.computeIfAbsent(f.stream(), k -> new CopyOnWriteArrayList<>()).add(m);
                    }
                } catch (IOException e) {
                    // the agent closed the connection
                }
                ended = true;
                control.add(new Message.Error("end", "connection ended"));
            });
        }

        void write(byte[] bytes) throws IOException {
            out.write(bytes);
            out.flush();
        }

        @Override
        public void close() {
            try { out.close(); } catch (IOException ignored) { }
            try { in.close(); } catch (IOException ignored) { }
        }
    }

    private static byte[] frame(int stream, Message m) throws IOException {
        var b = new ByteArrayOutputStream();
        new FrameIO(InputStream.nullInputStream(), b).write(Codec.encode(stream, m));
        return b.toByteArray();
    }

    /** Opening messages, weighted towards the operations the agent runs. */
    private static Message opening(Random r) {
        int[] kinds = {3, 3, 3, 4, 6, 6, 7, 7, 8, 9, 12, 12, 13, 17, 19, 20, 22};
        Message m = RandomMessages.of(kinds[r.nextInt(kinds.length)], r);
        // the edge cases of the generator, plus paths and users that exist here
        return switch (m) {
            case Message.FileRead f when r.nextBoolean() -> new Message.FileRead(r.nextBoolean() ? "a.txt" : "/", f.offsetLine(), f.limitLines(), f.maxBytes());
            case Message.FileWrite w when r.nextBoolean() -> new Message.FileWrite("new/" + w.path(), w.mode() & 07777, r.nextBoolean() ? "" : "root");
            case Message.ExecRequest e when r.nextBoolean() -> new Message.ExecRequest(e.argv(), e.env(), "", r.nextBoolean() ? "" : "root", e.timeoutMillis(), e.stdin());
            case Message.SessionStart s when r.nextBoolean() -> new Message.SessionStart(r.nextBoolean() ? "" : "s-" + r.nextInt(5), s.argv(), s.env(), "", "root", s.tty(), s.rows(), s.cols(), s.maxIdleSeconds());
            case Message.SessionAttach a when r.nextBoolean() -> new Message.SessionAttach("s" + r.nextInt(5), a.ifDetached());
            default -> m;
        };
    }

    /** What may follow on an open stream: input, end of input, signals, window updates, resizes, anything. */
    private static Message followUp(Random r) {
        return switch (r.nextInt(8)) {
            case 0, 1 -> new Message.Data(Message.Channel.STDIN, Fuzz.bytes(r, r.nextInt(3000)));
            case 2 -> new Message.Eof(Message.Channel.STDIN);
            case 3 -> new Message.Kill(r.nextBoolean() ? 15 : Fuzz.anInt(r));
            case 4 -> new Message.Window(1 + r.nextInt(100_000));
            case 5 -> new Message.Resize(Fuzz.anInt(r), Fuzz.anInt(r));
            case 6 -> new Message.Detach();
            default -> RandomMessages.any(r);
        };
    }

    /** Whether {@code m} is the last message of the operation {@code opening}. */
    private static boolean isFinal(Message opening, Message m) {
        if (m instanceof Message.Error || m instanceof Message.Exit) return true;
        return switch (opening) {
            case Message.DetachRequest d -> m instanceof Message.Detached;
            case Message.FileWrite w -> m instanceof Message.FileInfo;
            case Message.FileStat s -> m instanceof Message.FileInfo;
            case Message.FileListRequest l -> m instanceof Message.FileList;
            case Message.SessionListRequest l -> m instanceof Message.SessionList;
            case Message.SessionStart s -> m instanceof Message.SessionInfo; // its first answer; output follows
            case Message.SessionAttach a -> m instanceof Message.SessionInfo;
            case Message.ForwardOpen f -> m instanceof Message.Forwarded;
            default -> false;
        };
    }

    @Test
    void theAgentAnswersEveryOperationAndSurvivesEveryFrame() throws Exception {
        var fuzz = Fuzz.start("agent", 150);
        var r = new Random(fuzz.seed);
        Host host = null;
        int closed = 0, operations = 0;
        try {
            while (fuzz.more()) {
                if (host == null || host.ended) {
                    if (host != null) host.close();
                    host = new Host();
                    assertThat(host.control.poll(DEADLINE_SECONDS, TimeUnit.SECONDS)).as("%s: hello", fuzz.where()).isInstanceOf(Message.Hello.class);
                    host.write(frame(0, new Message.Hello(Codec.PROTOCOL_VERSION, "fuzz")));
                }
                var bytes = new ByteArrayOutputStream();
                var awaited = new ArrayList<Integer>();
                boolean mutated = false;
                for (int i = 1 + r.nextInt(5); i > 0; i--) {
                    int kind = r.nextInt(10);
                    if (kind < 4 || host.sentOpenings.isEmpty()) {
                        int id = host.nextStream;
                        host.nextStream += 2;
                        Message m = opening(r);
                        byte[] f = frame(id, m);
                        boolean intact = r.nextInt(10) > 0;
                        bytes.writeBytes(intact ? f : Fuzz.mutate(r, f));
                        host.sentOpenings.put(id, m);
                        // after a mutated frame the framing may be off (a longer length swallows what follows)
                        if (m instanceof Message.FileWrite && r.nextInt(4) > 0) {
                            bytes.writeBytes(frame(id, new Message.Data(Message.Channel.STDIN, Fuzz.bytes(r, r.nextInt(5000)))));
                            bytes.writeBytes(frame(id, new Message.Eof(Message.Channel.STDIN)));
                            if (intact && !mutated) awaited.add(id);
                        } else if (intact && !mutated && !(m instanceof Message.FileWrite)) {
                            awaited.add(id);
                        }
                        mutated |= !intact;
                    } else if (kind < 9) {
                        var ids = new ArrayList<>(host.sentOpenings.keySet());
                        int id = r.nextInt(8) == 0 ? r.nextInt() : ids.get(r.nextInt(ids.size()));
                        byte[] f = frame(id, followUp(r));
                        boolean intact = r.nextInt(10) > 0;
                        bytes.writeBytes(intact ? f : Fuzz.mutate(r, f));
                        mutated |= !intact;
                    } else {
                        bytes.writeBytes(frame(0, r.nextBoolean() ? new Message.Ping(r.nextLong()) : RandomMessages.any(r)));
                        mutated = true; // a stray control message may close the connection, rightly
                    }
                }
                byte[] sent = bytes.toByteArray();
                int hellosBefore = host.hellos.get();
                int pad = Fuzz.padToBoundary(sent);
                long nonce = r.nextLong();
                try {
                    host.write(sent);
                    if (pad > 0) host.write(new byte[pad]);
                    host.write(frame(0, new Message.Ping(nonce)));
                } catch (IOException e) {
                    // the agent closed on a bad frame
                }
                if (!awaitPongOrEnd(host, nonce, fuzz)) {
                    closed++;
                    continue;
                }
                if (host.hellos.get() != hellosBefore) awaited.clear(); // a hello in the batch dropped them, rightly
                for (int id : awaited) {
                    Message opening = host.sentOpenings.get(id);
                    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(DEADLINE_SECONDS);
                    while (!host.ended && host.streams.getOrDefault(id, List.of()).stream().noneMatch(m -> isFinal(opening, m))) {
                        if (System.nanoTime() > deadline) {
                            throw new AssertionError(fuzz.where() + ": no final answer to " + opening + " (mutated batch: " + mutated
                                    + "), got " + host.streams.get(id));
                        }
                        Thread.sleep(5);
                    }
                    operations++;
                }
                if (r.nextInt(20) == 0) host.close(); // the host goes away; the agent serves the next one
            }
        } finally {
            if (host != null) host.close();
        }
        System.out.printf("fuzz agent: %d operations answered, %d connections closed on bad input%n", operations, closed);
        assertThat(internal).as("requests that failed with an exception inside the agent").isEmpty();
        assertThat(uncaught).as("threads that died or bad frames").isEmpty();
        stillWorks();
    }

    /** A plain exec through a proper host connection after all that. */
    private void stillWorks() throws Exception {
        var toAgent = Pipe.open();
        var toHost = Pipe.open();
        agent.serve(new FrameIO(Channels.newInputStream(toAgent.source()), Channels.newOutputStream(toHost.sink())));
        try (var c = Connection.client(new FrameIO(Channels.newInputStream(toHost.source()), Channels.newOutputStream(toAgent.sink())), "after-fuzz")) {
            c.awaitHello(DEADLINE_SECONDS, TimeUnit.SECONDS);
            c.ping(DEADLINE_SECONDS, TimeUnit.SECONDS);
            Stream s = c.open(new Message.ExecRequest(List.of("/bin/echo", "still", "here"), Map.of(), "", "root", 10_000, false));
            var out = new StringBuilder();
            while (true) {
                Message m = s.poll(DEADLINE_SECONDS, TimeUnit.SECONDS);
                assertThat(m).as("the exec's answer").isNotNull();
                if (m instanceof Message.Data d) out.append(new String(d.bytes()));
                if (m instanceof Message.Exit x) {
                    assertThat(x.exitCode()).isZero();
                    break;
                }
                assertThat(m).isNotInstanceOf(Message.Error.class);
            }
            assertThat(out.toString()).isEqualTo("still here\n");
        }
    }

    private static boolean awaitPongOrEnd(Host host, long nonce, Fuzz fuzz) throws InterruptedException {
        while (true) {
            Message m = host.control.poll(DEADLINE_SECONDS, TimeUnit.SECONDS);
            if (m == null) throw new AssertionError(fuzz.where() + ": the agent neither answered a ping nor closed");
            if (m instanceof Message.Error e && e.code().equals("end")) return false;
            if (m instanceof Message.Pong p && p.nonce() == nonce) return true;
        }
    }
}
