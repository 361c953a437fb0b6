package dev.bhatti.agent;

import dev.bhatti.protocol.Connection;
import dev.bhatti.protocol.FrameIO;
import dev.bhatti.protocol.Message;
import dev.bhatti.protocol.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.channels.Channels;
import java.nio.channels.Pipe;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** The agent's recursive file watch on a real directory of this host (inotify), over the real protocol. */
class FileWatchSessionTest {

    @TempDir Path dir;
    Path workspace;
    Connection host;

    @BeforeEach
    void start() throws Exception {
        Path passwd = Files.writeString(dir.resolve("passwd"), "root:x:0:0:root:/root:/bin/sh\n");
        workspace = Files.createDirectory(dir.resolve("workspace"));
        var config = new AgentConfig(passwd, workspace, "setsid", "setpriv", Libc.geteuid() == 0);
        var toAgent = Pipe.open();
        var toHost = Pipe.open();
        new AgentMain(config).serve(new FrameIO(Channels.newInputStream(toAgent.source()), Channels.newOutputStream(toHost.sink())));
        host = Connection.client(new FrameIO(Channels.newInputStream(toHost.source()), Channels.newOutputStream(toAgent.sink())), "test");
        host.awaitHello(5, TimeUnit.SECONDS);
    }

    @AfterEach
    void stop() {
        host.close();
        await().atMost(Duration.ofSeconds(10)).until(() -> FileWatchSession.active() == 0);
    }

    record Seen(String type, String path, boolean isDir) {}

    private static final Pattern LINE = Pattern.compile("\\{\"type\":\"(\\w+)\",\"path\":\"([^\"]*)\",\"is_dir\":(true|false),\"time\":\"[^\"]+\"}");

    /** Reads events until {@code until} is among them (or 10 s pass). */
    static List<Seen> readUntil(Stream s, Seen until) throws Exception {
        var seen = new ArrayList<Seen>();
        var text = new StringBuilder();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!seen.contains(until) && System.nanoTime() < deadline) {
            Message m = s.poll(200, TimeUnit.MILLISECONDS);
            if (m == null) continue;
            assertThat(m).isInstanceOf(Message.Data.class);
            text.append(new String(((Message.Data) m).bytes(), StandardCharsets.UTF_8));
            int nl;
            while ((nl = text.indexOf("\n")) >= 0) {
                Matcher x = LINE.matcher(text.substring(0, nl));
                assertThat(x.matches()).as(text.substring(0, nl)).isTrue();
                seen.add(new Seen(x.group(1), x.group(2), Boolean.parseBoolean(x.group(3))));
                text.delete(0, nl + 1);
            }
        }
        return seen;
    }

    @Test
    void reportsCreateModifyDeleteInOrderAndNewSubdirectories() throws Exception {
        Stream s = host.open(new Message.FileWatch("."));
        var info = (Message.FileInfo) s.poll(10, TimeUnit.SECONDS);
        assertThat(info.type()).isEqualTo("dir");
        Path f = workspace.resolve("a.txt");
        Files.writeString(f, "one");
        var first = readUntil(s, new Seen("created", f.toString(), false));
        assertThat(first).contains(new Seen("created", f.toString(), false));
        Files.writeString(f, "two", java.nio.file.StandardOpenOption.APPEND);
        assertThat(readUntil(s, new Seen("modified", f.toString(), false))).contains(new Seen("modified", f.toString(), false));
        Files.delete(f);
        assertThat(readUntil(s, new Seen("deleted", f.toString(), false))).contains(new Seen("deleted", f.toString(), false));

        Path sub = Files.createDirectories(workspace.resolve("d/e"));
        Path inner = Files.writeString(sub.resolve("in.txt"), "x");
        var later = readUntil(s, new Seen("created", inner.toString(), false));
        assertThat(later).contains(new Seen("created", workspace.resolve("d").toString(), true), new Seen("created", inner.toString(), false));
        Path deeper = Files.writeString(sub.resolve("late.txt"), "y"); // through the new directory's own watch
        assertThat(readUntil(s, new Seen("created", deeper.toString(), false))).contains(new Seen("created", deeper.toString(), false));

        s.send(new Message.Error("cancelled", "done"));
        await().atMost(Duration.ofSeconds(5)).until(() -> FileWatchSession.active() == 0);
    }

    @Test
    void movesAreReportedAndAMovedDirectoryIsFollowedUnderItsNewName() throws Exception {
        Path a = Files.createDirectory(workspace.resolve("a"));
        Stream s = host.open(new Message.FileWatch(workspace.toString()));
        assertThat(s.poll(10, TimeUnit.SECONDS)).isInstanceOf(Message.FileInfo.class);
        Path b = workspace.resolve("b");
        Files.move(a, b);
        var seen = readUntil(s, new Seen("moved_to", b.toString(), true));
        assertThat(seen).containsSubsequence(new Seen("moved_from", a.toString(), true), new Seen("moved_to", b.toString(), true));
        Path inside = Files.writeString(b.resolve("x"), "1");
        assertThat(readUntil(s, new Seen("created", inside.toString(), false))).contains(new Seen("created", inside.toString(), false));
    }

    @Test
    void aWatchedFileReportsItsChangesAndItsEnd() throws Exception {
        Path f = Files.writeString(workspace.resolve("one.txt"), "1");
        Stream s = host.open(new Message.FileWatch("one.txt"));
        assertThat(((Message.FileInfo) s.poll(10, TimeUnit.SECONDS)).type()).isEqualTo("file");
        Files.writeString(f, "2");
        assertThat(readUntil(s, new Seen("modified", f.toString(), false))).contains(new Seen("modified", f.toString(), false));
        Files.delete(f);
        assertThat(readUntil(s, new Seen("deleted", f.toString(), false))).contains(new Seen("deleted", f.toString(), false));
        assertThat(s.poll(10, TimeUnit.SECONDS)).isEqualTo(new Message.Exit(0, false));
    }

    @Test
    void aMissingPathIsNotFound() throws Exception {
        Stream s = host.open(new Message.FileWatch("/no/such/dir"));
        var error = (Message.Error) s.poll(10, TimeUnit.SECONDS);
        assertThat(error.code()).isEqualTo("not_found");
    }

    @Test
    void theRootGoingEndsTheWatchAfterItsEvents() throws Exception {
        Path d = Files.createDirectory(workspace.resolve("gone"));
        Stream s = host.open(new Message.FileWatch(d.toString()));
        assertThat(s.poll(10, TimeUnit.SECONDS)).isInstanceOf(Message.FileInfo.class);
        Files.delete(d);
        var seen = readUntil(s, new Seen("deleted", d.toString(), true));
        assertThat(seen).contains(new Seen("deleted", d.toString(), true));
        assertThat(s.poll(10, TimeUnit.SECONDS)).isEqualTo(new Message.Exit(0, false));
    }

    @Test
    void aHostThatStopsReadingIsDroppedWithAnOverflow() throws Exception {
        Stream s = host.open(new Message.FileWatch("."));
        assertThat(s.poll(10, TimeUnit.SECONDS)).isInstanceOf(Message.FileInfo.class);
        Path many = Files.createDirectory(workspace.resolve("many"));
        String name = "f".repeat(100);
        for (int i = 0; i < FileWatchSession.MAX_WAITING + 6_000; i++) Files.createFile(many.resolve(name + i));
        await().atMost(Duration.ofSeconds(30)).until(() -> FileWatchSession.active() == 0);
        Message m;
        do { m = s.poll(10, TimeUnit.SECONDS); } while (m instanceof Message.Data);
        assertThat(m).isInstanceOfSatisfying(Message.Error.class, e -> assertThat(e.code()).isEqualTo("overflow"));
    }

    @Test
    void modificationsOfAPathCoalesceWhileTheyWait() {
        var q = new EventQueue(3);
        assertThat(q.add(new WatchEvent("created", "/a", false, 1))).isTrue();
        assertThat(q.add(new WatchEvent("modified", "/a", false, 2))).isTrue();
        assertThat(q.add(new WatchEvent("modified", "/b", false, 3))).isTrue();
        assertThat(q.add(new WatchEvent("modified", "/b", false, 4))).isTrue();
        assertThat(q.add(new WatchEvent("deleted", "/a", false, 5))).isTrue();
        assertThat(q.add(new WatchEvent("modified", "/a", false, 6))).isFalse(); // full: after a delete it is not coalesced
        assertThat(q.size()).isEqualTo(3);
        assertThat(q.coalesced()).isEqualTo(2);
        assertThat(new WatchEvent("created", "/x\"\n\u0001", true, 0).json())
                .isEqualTo("{\"type\":\"created\",\"path\":\"/x\\\"\\n\\u0001\",\"is_dir\":true,\"time\":\"1970-01-01T00:00:00Z\"}\n");
    }
}
