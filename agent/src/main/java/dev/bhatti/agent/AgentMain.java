package dev.bhatti.agent;

import dev.bhatti.protocol.Connection;
import dev.bhatti.protocol.FrameIO;
import dev.bhatti.protocol.Message;
import dev.bhatti.protocol.Stream;

import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.Pipe;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The guest agent. In a VM it serves the host over the virtio-serial port; for tests on a host it can
 * listen on a Unix socket instead. {@code --self-test} runs one command through the full protocol
 * in-process (used to train the class-data cache at image build time).
 */
public final class AgentMain {

    static final String SOFTWARE = "bhatti-agent/0.1.0";

    private final AgentConfig config;
    /** Sessions outlive connections: a reconnecting host finds them again. */
    private final SessionRegistry sessions;

    AgentMain(AgentConfig config) {
        this.config = config;
        this.sessions = new SessionRegistry(config);
    }

    public static void main(String[] args) throws Exception {
        if (args.length == 1 && args[0].equals("--self-test")) {
            System.exit(selfTest() ? 0 : 1);
        }
        if (args.length != 2) {
            System.err.println("usage: bhatti-agent --device PATH | --listen-unix PATH | --self-test");
            System.exit(2);
        }
        switch (args[0]) {
            case "--device" -> {
                // In a VM the agent owns the machine: commands go into capped cgroups, and it is the
                // service manager (systemctl/journalctl in the guest talk to it).
                var config = AgentConfig.guest().withCgroups(Cgroups.setUp(Path.of("/sys/fs/cgroup")));
                startServices(config);
                if (config.cgroups() != null) Thread.ofVirtual().name("cgroup-pool").start(() -> config.cgroups().prepare(2));
                IdleTrim.start();
                new AgentMain(config).serveDevice(Path.of(args[1]));
            }
            case "--listen-unix" -> new AgentMain(AgentConfig.guest()).serveUnix(Path.of(args[1]));
            default -> {
                System.err.println("unknown option " + args[0]);
                System.exit(2);
            }
        }
    }

    static final List<Path> UNIT_DIRS = List.of(Path.of("/etc/systemd/system"), Path.of("/run/systemd/system"),
            Path.of("/lib/systemd/system"), Path.of("/usr/lib/systemd/system"));

    private static void startServices(AgentConfig config) {
        try {
            // Package scripts (deb-systemd-helper/-invoke) only manage units when this directory exists.
            Files.createDirectories(Path.of("/run/systemd/system"));
            var services = new ServiceManager(config, UNIT_DIRS, Path.of("/var/log/bhatti"), Path.of("/run/bhatti/notify"));
            new SystemctlServer(services).serve(Path.of("/run/bhatti/systemctl.sock"));
            Thread.ofVirtual().name("boot-services").start(services::startEnabled);
        } catch (IOException e) {
            Log.info("service manager unavailable: " + e.getMessage());
        }
    }

    /** Processes a non-root user may have at once in the guest (fork bombs hit this, not the agent). */
    static final long USER_PROCESS_LIMIT = 4096;

    /**
     * Serves the virtio-serial port forever. The host may disconnect and reconnect (daemon restart,
     * snapshot restore): the port reads end-of-file then, and is opened anew; the new host's hello
     * ends the old host's streams.
     */
    void serveDevice(Path device) throws InterruptedException {
        if (!Libc.limitUserProcesses(USER_PROCESS_LIMIT)) Log.info("could not cap user processes");
        Log.info("ready on " + device);
        ReadyStamp.write();
        int failures = 0;
        while (true) {
            long started = System.nanoTime();
            // A virtio port admits a single open: one descriptor serves both directions.
            try (var port = new RandomAccessFile(device.toFile(), "rw")) {
                var connection = serve(new FrameIO(new FileInputStream(port.getFD()), new FileOutputStream(port.getFD())));
                connection.closedFuture().join();
                Log.info("channel ended, opening the port again: " + connection.failure());
                failures = 0;
            } catch (IOException e) {
                if (failures++ % 100 == 0) Log.info("channel error: " + e.getMessage());
            }
            // A port that fails at once (no such device yet, garbage from a host): do not spin.
            if (System.nanoTime() - started < TimeUnit.SECONDS.toNanos(1)) Thread.sleep(100);
        }
    }

    void serveUnix(Path socket) throws IOException {
        Files.deleteIfExists(socket);
        try (var server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            server.bind(UnixDomainSocketAddress.of(socket));
            Log.info("ready on " + socket);
            while (true) {
                SocketChannel ch = server.accept();
                serve(new FrameIO(Channels.newInputStream(ch), Channels.newOutputStream(ch)));
            }
        }
    }

    Connection serve(FrameIO io) {
        return Connection.server(io, SOFTWARE, this::onStream);
    }

    void onStream(Stream stream, Message opening) {
        IdleTrim.touch();
        try {
            dispatch(stream, opening);
        } catch (RuntimeException e) {
            // A bug must cost one request, never the agent or a silent hang on the host.
            Log.info("request " + opening.getClass().getSimpleName() + " failed: " + e);
            try {
                stream.send(new Message.Error("internal", "agent error: " + e));
            } catch (IOException ignored) {
                // channel gone
            }
        }
    }

    private void dispatch(Stream stream, Message opening) {
        switch (opening) {
            case Message.ExecRequest req -> new ExecSession(config, stream, req).run();
            case Message.DetachRequest req -> new DetachSession(config, stream, req).run();
            case Message.FileRead r -> new FileSession(config, stream).run(r);
            case Message.FileWrite w -> new FileSession(config, stream).run(w);
            case Message.FileStat st -> new FileSession(config, stream).run(st);
            case Message.FileListRequest l -> new FileSession(config, stream).run(l);
            case Message.FileWatch w -> new FileWatchSession(config, stream).run(w);
            case Message.ForwardOpen f -> new ForwardSession(stream, f).run();
            case Message.Resumed r -> new ResumeSession(stream).run(r);
            case Message.Mount m -> new MountSession(stream).run(m);
            case Message.SessionStart r -> sessionCall(stream, () -> sessions.start(stream, r));
            case Message.SessionAttach a -> sessionCall(stream, () -> sessions.attach(stream, a));
            case Message.SessionListRequest r -> sessionCall(stream, () -> stream.send(sessions.list()));
            case Message.SessionKill k -> sessionCall(stream, () -> stream.send(sessions.kill(k)));
            default -> {
                try {
                    stream.send(new Message.Error("unsupported", "unsupported request " + opening.getClass().getSimpleName()));
                } catch (IOException ignored) {
                    // channel gone
                }
            }
        }
    }

    private interface SessionCall { void run() throws IOException, InterruptedException; }

    private static void sessionCall(Stream stream, SessionCall call) {
        try {
            call.run();
        } catch (IOException e) {
            Log.info("session request on stream " + stream.id() + " lost its channel: " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static boolean selfTest() throws Exception {
        var toAgent = Pipe.open();
        var toHost = Pipe.open();
        var agent = new AgentMain(AgentConfig.guest());
        agent.serve(new FrameIO(Channels.newInputStream(toAgent.source()), Channels.newOutputStream(toHost.sink())));
        try (var host = Connection.client(new FrameIO(Channels.newInputStream(toHost.source()),
                Channels.newOutputStream(toAgent.sink())), "self-test")) {
            host.awaitHello(10, TimeUnit.SECONDS);
            host.ping(10, TimeUnit.SECONDS);
            Stream s = host.open(new Message.ExecRequest(List.of("sh", "-c", "echo ok; echo err >&2"), Map.of(), "/", "root", 10_000, false));
            var out = new StringBuilder();
            while (true) {
                Message m = s.poll(10, TimeUnit.SECONDS);
                switch (m) {
                    case Message.Data d -> out.append(new String(d.bytes()));
                    case Message.Exit x -> {
                        System.out.println("self-test: exit " + x.exitCode() + ", output " + out.toString().strip().replace('\n', ' '));
                        return x.exitCode() == 0 && out.toString().contains("ok");
                    }
                    case null -> { return false; }
                    default -> { return false; }
                }
            }
        }
    }
}
