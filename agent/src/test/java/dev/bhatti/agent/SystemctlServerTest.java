package dev.bhatti.agent;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The systemctl socket with a real service manager and real callers: this JVM (root on the test
 * machine) and, for the unprivileged side, a client process run as {@code nobody} through setpriv, so
 * the caller's identity is the kernel's (SO_PEERCRED), as in the guest.
 */
class SystemctlServerTest {

    /** A client speaking the guest script's protocol: stdout lines, "\0E " lines for stderr, "\0EXIT n" last. */
    static final String CLIENT = """
            use IO::Socket::UNIX;
            $SIG{PIPE} = 'IGNORE'; # a busy agent answers before it reads: its answer is still there to read
            my $s = IO::Socket::UNIX->new(Type => SOCK_STREAM(), Peer => shift @ARGV) or die "connect: $!\\n";
            if ($ARGV[0] eq '--hold') { sleep 600; exit 0 }
            print $s join("\\t", @ARGV), "\\n";
            my $code = 1;
            while (my $l = <$s>) {
              if ($l =~ /^\\0EXIT (\\d+)/) { $code = $1; last }
              if ($l =~ s/^\\0E //) { print STDERR $l } else { print $l }
            }
            exit $code;
            """;

    record Result(int code, String out, String err) {}

    @TempDir Path dir;
    Path socket;
    ServiceManager manager;
    SystemctlServer server;
    ServerSocketChannel listening;
    final List<Process> holders = new ArrayList<>();

    @BeforeEach
    void setUp() throws Exception {
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x")); // nobody reaches the socket
        Path units = Files.createDirectory(dir.resolve("units"));
        Files.writeString(units.resolve("demo.service"), """
                [Unit]
                Description=Demo service
                [Service]
                ExecStart=/bin/sh -c 'echo demo-up; exec sleep 600'
                [Install]
                WantedBy=multi-user.target
                """);
        Path passwd = Files.writeString(dir.resolve("passwd"), "root:x:0:0:root:/root:/bin/sh\n");
        var config = new AgentConfig(passwd, Files.createDirectory(dir.resolve("ws")), "setsid", "setpriv", Libc.geteuid() == 0);
        manager = new ServiceManager(config, List.of(units), dir.resolve("log"), dir.resolve("notify"));
        server = new SystemctlServer(manager, new SystemctlServer.Limits(1024, 2, 300, 30_000));
        socket = dir.resolve("run/systemctl.sock");
        listening = server.serve(socket);
    }

    @AfterEach
    void tearDown() throws Exception {
        for (Process p : holders) p.destroyForcibly().waitFor();
        listening.close();
        try {
            manager.stop("demo");
        } catch (ServiceManager.ServiceException ignored) {
            // never started
        }
    }

    /** One command from this JVM (root). */
    Result asRoot(String... args) throws Exception { return run(List.of(), args); }

    /** One command from a process of uid/gid 65534. */
    Result asNobody(String... args) throws Exception {
        assumeTrue(Libc.geteuid() == 0 && Files.isExecutable(Path.of("/usr/bin/setpriv")), "needs root and setpriv");
        return run(List.of("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--"), args);
    }

    Result run(List<String> prefix, String... args) throws Exception {
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/perl")), "needs perl");
        var cmd = new ArrayList<>(prefix);
        cmd.addAll(List.of("perl", "-e", CLIENT, socket.toString()));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).start();
        p.getOutputStream().close();
        var err = new java.util.concurrent.FutureTask<>(() -> new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8));
        Thread.ofVirtual().start(err);
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        return new Result(p.waitFor(), out, err.get());
    }

    @Test
    void theSocketIsOpenToEveryoneAndTheServerTellsCallersApart() throws Exception {
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(socket))).isEqualTo("rw-rw-rw-");
        var start = asRoot("start", "demo");
        assertThat(start.code()).as(start.toString()).isZero();
        await().atMost(Duration.ofSeconds(10)).until(() -> Files.exists(manager.log("demo")) && Files.readString(manager.log("demo")).contains("demo-up"));
        // the log stays readable by everyone (journalctl runs as its caller), whatever the umask
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(manager.log("demo")))).isEqualTo("rw-r--r--");

        var status = asNobody("status", "demo");
        assertThat(status.code()).as(status.toString()).isZero();
        assertThat(status.out()).contains("demo.service - Demo service").contains("Active: active (running)").contains("demo-up");
        var active = asNobody("is-active", "demo");
        assertThat(active).isEqualTo(new Result(0, "active\n", ""));
        assertThat(asNobody("show", "-p", "ActiveState", "--value", "demo")).isEqualTo(new Result(0, "active\n", ""));
        assertThat(asNobody("list-units").out()).containsPattern("demo\\.service +loaded +active +running +Demo service")
                .contains("1 loaded units listed.");
        assertThat(asNobody("list-unit-files", "--no-legend").out()).isEqualTo("demo.service disabled\n");
        assertThat(asNobody("cat", "demo").out()).startsWith("# " + dir.resolve("units/demo.service")).contains("ExecStart=");

        var stop = asNobody("stop", "demo");
        assertThat(stop.code()).isEqualTo(4);
        assertThat(stop.out()).isEmpty();
        assertThat(stop.err()).contains("Failed to stop demo: Access denied").contains("sudo systemctl stop demo");
        assertThat(asNobody("enable", "--now", "demo").code()).isEqualTo(4);
        assertThat(manager.enabled("demo")).isFalse();
        assertThat(manager.status("demo").state()).isEqualTo(ServiceManager.State.ACTIVE);

        assertThat(asRoot("stop", "demo").code()).isZero();
        assertThat(asNobody("is-active", "demo")).isEqualTo(new Result(3, "inactive\n", ""));
    }

    @Test
    void unitNamesCannotReachOtherFiles() throws Exception {
        Files.writeString(dir.resolve("secret.log"), "root-only\n");
        for (String name : List.of("../../secret", "../secret.service", "/etc/shadow")) {
            var status = asRoot("status", name);
            assertThat(status.code()).as(name).isEqualTo(1);
            assertThat(status.err()).isEqualTo("Unit name " + name + " is not valid.\n");
            assertThat(status.out()).doesNotContain("root-only");
        }
        assertThat(asRoot("status", "nope").err()).isEqualTo("Unit nope.service not found.\n");
        assertThat(asRoot("is-active", "nope")).isEqualTo(new Result(3, "inactive\n", ""));
    }

    @Test
    void aLongCommandLineIsRefusedUnread() throws Exception {
        var r = asRoot("status", "x".repeat(2000));
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err()).isEqualTo("systemctl: the command line is longer than 1024 bytes\n");
    }

    @Test
    void unprivilegedCallersGetAFewConnectionsAtOnce() throws Exception {
        assumeTrue(Libc.geteuid() == 0 && Files.isExecutable(Path.of("/usr/bin/setpriv")), "needs root and setpriv");
        for (int i = 0; i < 2; i++) {
            holders.add(new ProcessBuilder("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--",
                    "perl", "-e", CLIENT, socket.toString(), "--hold").start());
        }
        await().atMost(Duration.ofSeconds(20)).until(() -> server.unprivilegedFree() == 0);
        var busy = asNobody("status", "demo");
        assertThat(busy.code()).isEqualTo(1);
        assertThat(busy.err()).isEqualTo("systemctl: too many requests at once; try again\n");
        // root is never held up by them
        assertThat(asRoot("is-active", "demo")).isEqualTo(new Result(3, "inactive\n", ""));

        for (Process p : holders) p.destroyForcibly().waitFor();
        await().atMost(Duration.ofSeconds(20)).until(() -> server.unprivilegedFree() == 2);
        assertThat(asNobody("is-active", "demo").code()).isEqualTo(3);
    }

    @Test
    @Timeout(60)
    void aCallerThatSendsNothingIsDisconnected() throws Exception {
        try (var silent = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            silent.connect(UnixDomainSocketAddress.of(socket));
            // the server closes it after its request timeout: the read ends instead of blocking forever
            assertThat(silent.read(ByteBuffer.allocate(16))).isEqualTo(-1);
        }
    }

    @Test
    void repliesCannotForgeTheExitLine() {
        var wire = new String(SystemctlServer.encode(new SystemctlCommands.Reply("log line\0EXIT 0 but not\npartial", "e1\ne2\n", 3)),
                StandardCharsets.UTF_8);
        assertThat(wire).isEqualTo("log lineEXIT 0 but not\npartial\n\0E e1\n\0E e2\n\0EXIT 3\n");
    }

    @Test
    void statusShowsTheEndOfALongLogOnly() throws IOException {
        Path log = dir.resolve("big.log");
        var text = new StringBuilder();
        for (int i = 0; i < 20_000; i++) text.append("line ").append(i).append('\n');
        Files.writeString(log, text);
        assertThat(SystemctlCommands.tail(log, 3)).containsExactly("line 19997", "line 19998", "line 19999");
        assertThat(SystemctlCommands.tail(dir.resolve("none.log"), 3)).isEmpty();
    }
}
