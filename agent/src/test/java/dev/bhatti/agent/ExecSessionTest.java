package dev.bhatti.agent;

import dev.bhatti.protocol.Connection;
import dev.bhatti.protocol.FrameIO;
import dev.bhatti.protocol.Message;
import dev.bhatti.protocol.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.nio.channels.Channels;
import java.nio.channels.Pipe;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Runs the agent against real processes on the host, over the real protocol (no VM needed). */
class ExecSessionTest {

    @TempDir Path dir;
    private Connection host;

    record Outcome(String stdout, String stderr, Message end) {
        int exitCode() { return ((Message.Exit) end).exitCode(); }
    }

    @BeforeEach
    void start() throws Exception {
        // @TempDir is root's alone (0700): uid 1000 must be able to enter it, as it can enter /workspace in a guest
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path passwd = dir.resolve("passwd");
        Files.writeString(passwd, "root:x:0:0:root:/root:/bin/sh\ntester:x:1000:1000::" + dir + ":/bin/sh\n");
        Path workspace = Files.createDirectory(dir.resolve("workspace"));
        var config = new AgentConfig(passwd, workspace, "setsid", "setpriv", Libc.geteuid() == 0, dir.resolve("environ"));
        var toAgent = Pipe.open();
        var toHost = Pipe.open();
        new AgentMain(config).serve(new FrameIO(Channels.newInputStream(toAgent.source()), Channels.newOutputStream(toHost.sink())));
        host = Connection.client(new FrameIO(Channels.newInputStream(toHost.source()), Channels.newOutputStream(toAgent.sink())), "test");
        host.awaitHello(5, TimeUnit.SECONDS);
    }

    @AfterEach
    void stop() { host.close(); }

    private Outcome run(Message.ExecRequest request, byte[] stdin) throws Exception {
        Stream s = host.open(request);
        if (stdin != null) {
            s.send(new Message.Data(Message.Channel.STDIN, stdin));
            s.send(new Message.Eof(Message.Channel.STDIN));
        }
        var out = new ByteArrayOutputStream();
        var err = new ByteArrayOutputStream();
        while (true) {
            Message m = s.poll(20, TimeUnit.SECONDS);
            switch (m) {
                case Message.Data d when d.channel() == Message.Channel.STDOUT -> out.write(d.bytes());
                case Message.Data d -> err.write(d.bytes());
                case Message.Exit x -> { return new Outcome(out.toString(), err.toString(), x); }
                case Message.Error e -> { return new Outcome(out.toString(), err.toString(), e); }
                case null -> throw new AssertionError("no answer from the agent");
                default -> { }
            }
        }
    }

    private Outcome sh(String script, String user, long timeoutMillis) throws Exception {
        return run(new Message.ExecRequest(List.of("sh", "-c", script), Map.of(), "", user, timeoutMillis, false), null);
    }

    @Test
    void separatesStdoutAndStderrAndPassesTheExitCode() throws Exception {
        var o = sh("echo out; echo err >&2; exit 7", "root", 0);
        assertThat(o.stdout()).isEqualTo("out\n");
        assertThat(o.stderr()).isEqualTo("err\n");
        assertThat(o.exitCode()).isEqualTo(7);
    }

    @Test
    void runsAsUid1000ByDefaultInTheWorkspace() throws Exception {
        assumeTrue(Libc.geteuid() == 0, "dropping privileges needs root");
        var o = sh("id -u; id -g; pwd; echo $HOME", "", 0);
        assertThat(o.stdout().lines().toList()).containsExactly("1000", "1000", dir.resolve("workspace").toString(), dir.toString());
        assertThat(sh("id -u", "root", 0).stdout()).isEqualTo("0\n");
    }

    @Test
    void aCommandForAUserRunsWithItsGroupsAndNoWayBackToRoot() throws Exception {
        assumeTrue(Libc.geteuid() == 0, "dropping privileges needs root");
        Files.writeString(dir.resolve("group"), "root:x:0:\nwheel:x:27:someone,tester\nother:x:50:someone\n");
        var o = sh("id -G; grep -E '^(Uid|Gid|CapPrm|CapEff|CapAmb):' /proc/self/status", "", 0);
        assertThat(o.stdout().lines().toList()).containsExactly("1000 27",
                "Uid:\t1000\t1000\t1000\t1000", "Gid:\t1000\t1000\t1000\t1000",
                "CapPrm:\t0000000000000000", "CapEff:\t0000000000000000", "CapAmb:\t0000000000000000");
        // the agent's own threads are still root: the next root command is root
        assertThat(sh("id -u; id -G", "root", 0).stdout()).isEqualTo("0\n0\n");
    }

    @Test
    void aUserCannotStartInADirectoryItMayNotEnter() throws Exception {
        assumeTrue(Libc.geteuid() == 0, "dropping privileges needs root");
        Path closed = Files.createDirectory(dir.resolve("closed"), PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        var o = run(new Message.ExecRequest(List.of("pwd"), Map.of(), closed.toString(), "", 0, false), null);
        assertThat(o.exitCode()).isEqualTo(126);
        assertThat(o.stderr()).isEqualTo("bhatti: pwd: permission denied (as tester in " + closed + ")\n");
        assertThat(run(new Message.ExecRequest(List.of("pwd"), Map.of(), closed.toString(), "root", 0, false), null).stdout())
                .isEqualTo(closed + "\n");
    }

    @Test
    void passesEnvCwdAndStdin() throws Exception {
        var o = run(new Message.ExecRequest(List.of("sh", "-c", "echo $GREETING; pwd; cat"), Map.of("GREETING", "hi there"),
                "/tmp", "root", 0, true), "from stdin\n".getBytes());
        assertThat(o.stdout()).isEqualTo("hi there\n/tmp\nfrom stdin\n");
    }

    @Test
    void theSandboxEnvironmentAppliesToEveryCommandAndRequestsOverrideIt() throws Exception {
        Files.writeString(dir.resolve("environ"), "FROM_CREATE=yes\0GREETING=default\0");
        var o = run(new Message.ExecRequest(List.of("sh", "-c", "echo $FROM_CREATE $GREETING"), Map.of("GREETING", "override"),
                "", "root", 0, false), null);
        assertThat(o.stdout()).isEqualTo("yes override\n");
    }

    @Test
    void theTiersEnvironmentComesFirstAndTheSandboxesOverridesIt() throws Exception {
        Files.writeString(dir.resolve("tier.env"), "# the computer tier's display\nDISPLAY=:1\nCOLOUR = blue\nnot a variable\n");
        Files.writeString(dir.resolve("environ"), "COLOUR=red\0");
        var o = run(new Message.ExecRequest(List.of("sh", "-c", "echo $DISPLAY $COLOUR"), Map.of(), "", "root", 0, false), null);
        assertThat(o.stdout()).isEqualTo(":1 red\n");
    }

    @Test
    void anImagesWorkdirAndUserAreTheDefaultsAndARequestOverridesThem() throws Exception {
        Path workdir = Files.createDirectory(dir.resolve("app"));
        Files.writeString(dir.resolve("image"), "WORKDIR=" + workdir + "\0USER=root:root\0");
        assertThat(sh("pwd; id -u", "", 0).stdout()).isEqualTo(workdir + "\n0\n");
        assertThat(run(new Message.ExecRequest(List.of("pwd"), Map.of(), "/tmp", "", 0, false), null).stdout()).isEqualTo("/tmp\n");
        if (Libc.geteuid() == 0) assertThat(sh("id -u", "1000", 0).stdout()).isEqualTo("1000\n");
    }

    @Test
    void missingCommandsExit127WithAMessage() throws Exception {
        var o = run(new Message.ExecRequest(List.of("no-such-command-xyz"), Map.of(), "", "root", 0, false), null);
        assertThat(o.exitCode()).isEqualTo(127);
        assertThat(o.stderr()).contains("no-such-command-xyz: command not found");
        var p = run(new Message.ExecRequest(List.of("/etc/passwd"), Map.of(), "", "root", 0, false), null);
        assertThat(p.exitCode()).isEqualTo(126);
    }

    @Test
    void badUserOrDirectoryIsAnErrorNotAHang() throws Exception {
        assertThat(sh("true", "nobody-here", 0).end()).isInstanceOf(Message.Error.class);
        var o = run(new Message.ExecRequest(List.of("true"), Map.of(), "/no/such/dir", "root", 0, false), null);
        assertThat(((Message.Error) o.end()).message()).contains("/no/such/dir");
    }

    @Test
    void timeoutKillsTheWholeProcessGroup() throws Exception {
        Path marker = dir.resolve("survivor");
        long start = System.nanoTime();
        // the background child would write the marker after 3 s unless its group is killed
        var o = sh("(sleep 3; touch " + marker + ") & sleep 60", "root", 500);
        assertThat(o.end()).isEqualTo(new Message.Exit(124, true));
        assertThat(System.nanoTime() - start).isLessThan(TimeUnit.SECONDS.toNanos(10));
        // once no process that could write the marker is left, it never will be
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(10)).until(() -> ProcessHandle.allProcesses()
                .noneMatch(p -> p.info().commandLine().orElse("").contains(marker.toString())));
        assertThat(marker).doesNotExist();
    }

    @Test
    void aCommandThatNeverStopsWritingStillTimesOut() throws Exception {
        var o = sh("yes", "root", 500);
        assertThat(o.end()).isEqualTo(new Message.Exit(124, true));
        assertThat(o.stdout()).startsWith("y\ny\n");
    }

    @Test
    void aChangedEnvironmentOrUserAppliesToTheNextCommandEvenWhenItsTimeIsOld() throws Exception {
        Path environ = dir.resolve("environ");
        var anHourAgo = java.nio.file.attribute.FileTime.fromMillis(System.currentTimeMillis() - 3_600_000);
        Files.writeString(environ, "COLOUR=red\0");
        Files.setLastModifiedTime(environ, anHourAgo); // old enough to be cached
        assertThat(sh("echo $COLOUR", "root", 0).stdout()).isEqualTo("red\n");
        assertThat(sh("echo $COLOUR", "root", 0).stdout()).isEqualTo("red\n");
        // edited in place to another size, its time forged back
        Files.writeString(environ, "COLOUR=green\0");
        Files.setLastModifiedTime(environ, anHourAgo);
        assertThat(sh("echo $COLOUR", "root", 0).stdout()).isEqualTo("green\n");
        // replaced by a rename (a new inode) of the same size and time
        Path next = dir.resolve("environ.next");
        Files.writeString(next, "COLOUR=brown\0");
        Files.setLastModifiedTime(next, anHourAgo);
        Files.move(next, environ, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        assertThat(sh("echo $COLOUR", "root", 0).stdout()).isEqualTo("brown\n");

        Path passwd = dir.resolve("passwd");
        Files.setLastModifiedTime(passwd, anHourAgo);
        assertThat(sh("true", "newcomer", 0).end()).isInstanceOf(Message.Error.class);
        Files.writeString(passwd, "newcomer:x:0:0::/:/bin/sh\n", java.nio.file.StandardOpenOption.APPEND); // useradd, say
        assertThat(sh("id -u", "newcomer", 0).stdout()).isEqualTo("0\n");
    }

    @Test
    void backgroundChildrenHoldingThePipesDoNotHoldTheReply() throws Exception {
        var o = sh("sleep 5 & echo started", "root", 0);
        assertThat(o.stdout()).isEqualTo("started\n");
        assertThat(o.exitCode()).isZero();
    }

    @Test
    void detachedCommandsOutliveTheirRequestAndLogToAFile() throws Exception {
        Path log = dir.resolve("logs/detached.log");
        Stream s = host.open(new Message.DetachRequest(List.of("sh", "-c", "echo started; sleep 1; echo done >&2"), Map.of(), "", "root",
                log.toString()));
        var reply = (Message.Detached) s.poll(10, TimeUnit.SECONDS);
        assertThat(reply.outputFile()).isEqualTo(log.toString());
        assertThat(ProcessHandle.of(reply.pid())).isPresent();
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(10))
                .untilAsserted(() -> assertThat(Files.readString(log)).isEqualTo("started\ndone\n"));
    }

    @Test
    void detachRefusesWhatCannotRun() throws Exception {
        Stream s = host.open(new Message.DetachRequest(List.of("no-such-thing"), Map.of(), "", "root", dir.resolve("x.log").toString()));
        assertThat(((Message.Error) s.poll(10, TimeUnit.SECONDS)).message()).contains("command not found");
        Stream rel = host.open(new Message.DetachRequest(List.of("true"), Map.of(), "", "root", "relative.log"));
        assertThat(((Message.Error) rel.poll(10, TimeUnit.SECONDS)).message()).contains("absolute");
    }

    /** Found by AgentFuzzTest: these failed inside the spawn as "internal" errors (or were cut at the NUL). */
    @Test
    void argumentsEnvironmentAndPathsNoProcessCanTakeAreBadRequests() throws Exception {
        List<Message> requests = List.of(
                new Message.ExecRequest(List.of("echo", "a\0b"), Map.of(), "", "root", 0, false),
                new Message.ExecRequest(List.of("true"), Map.of("A=B", "x"), "", "root", 0, false),
                new Message.ExecRequest(List.of("true"), Map.of("", "x"), "", "root", 0, false),
                new Message.ExecRequest(List.of("true"), Map.of("A", "x\0y"), "", "root", 0, false),
                new Message.ExecRequest(List.of("true"), Map.of(), "/tmp\0x", "root", 0, false),
                new Message.DetachRequest(List.of("true"), Map.of("A=B", "x"), "", "root", dir.resolve("d.log").toString()),
                new Message.DetachRequest(List.of("true"), Map.of(), "/\0", "root", dir.resolve("d.log").toString()),
                new Message.DetachRequest(List.of("true"), Map.of(), "", "root", dir + "/d\0.log"));
        for (Message request : requests) {
            Stream s = host.open(request);
            Message answer = s.poll(10, TimeUnit.SECONDS);
            assertThat(answer).as(request.toString()).isInstanceOf(Message.Error.class);
            assertThat(((Message.Error) answer).code()).as(request.toString()).isEqualTo("bad_request");
        }
        assertThat(dir.resolve("d.log")).doesNotExist();
    }
}
