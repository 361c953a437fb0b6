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
import java.time.Duration;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** File operations of the agent against a real directory on the host, over the real protocol. */
class FileSessionTest {

    @TempDir Path dir;
    Path workspace;
    Connection host;
    Connection agent;

    @BeforeEach
    void start() throws Exception {
        Path passwd = Files.writeString(dir.resolve("passwd"), "root:x:0:0:root:/root:/bin/sh\ntester:x:1000:1000::/tmp:/bin/sh\n");
        workspace = Files.createDirectory(dir.resolve("workspace"));
        var config = new AgentConfig(passwd, workspace, "setsid", "setpriv", Libc.geteuid() == 0);
        var toAgent = Pipe.open();
        var toHost = Pipe.open();
        agent = new AgentMain(config).serve(new FrameIO(Channels.newInputStream(toAgent.source()), Channels.newOutputStream(toHost.sink())));
        host = Connection.client(new FrameIO(Channels.newInputStream(toHost.source()), Channels.newOutputStream(toAgent.sink())), "test");
        host.awaitHello(5, TimeUnit.SECONDS);
    }

    @AfterEach
    void stop() { host.close(); }

    Message write(String path, byte[] content, int mode) throws Exception {
        Stream s = host.open(new Message.FileWrite(path, mode, ""));
        try {
            s.send(new Message.Data(Message.Channel.STDIN, content));
            s.send(new Message.Eof(Message.Channel.STDIN));
        } catch (Stream.PeerEndedException e) {
            // refused early: the reply is waiting
        }
        return s.poll(10, TimeUnit.SECONDS);
    }

    record Read(Message head, byte[] data, Message end) {}

    Read read(String path, long offset, long limit, long maxBytes) throws Exception {
        Stream s = host.open(new Message.FileRead(path, offset, limit, maxBytes));
        Message head = s.poll(10, TimeUnit.SECONDS);
        var data = new ByteArrayOutputStream();
        if (!(head instanceof Message.FileInfo)) return new Read(head, data.toByteArray(), head);
        while (true) {
            Message m = s.poll(10, TimeUnit.SECONDS);
            if (m instanceof Message.Data d) data.write(d.bytes());
            else return new Read(head, data.toByteArray(), m);
        }
    }

    @Test
    void writesAtomicallyWithModeOwnerAndParentsThenReadsBack() throws Exception {
        byte[] content = new byte[3 * 1024 * 1024 + 17];
        new Random(7).nextBytes(content);
        var info = (Message.FileInfo) write("deep/er/blob.bin", content, 0640);
        assertThat(info.size()).isEqualTo(content.length);
        assertThat(info.mode()).isEqualTo(0640);
        Path file = workspace.resolve("deep/er/blob.bin");
        assertThat(Files.readAllBytes(file)).isEqualTo(content);
        if (Libc.geteuid() == 0) {
            assertThat(Files.getAttribute(file, "unix:uid")).isEqualTo(1000);
            assertThat(Files.getAttribute(workspace.resolve("deep"), "unix:uid")).isEqualTo(1000);
        }
        try (var files = Files.list(file.getParent())) {
            assertThat(files.map(p -> p.getFileName().toString())).containsExactly("blob.bin");
        }
        var r = read(file.toString(), 0, 0, 0);
        assertThat(((Message.FileInfo) r.head()).size()).isEqualTo(content.length);
        assertThat(r.data()).isEqualTo(content);
        assertThat(r.end()).isEqualTo(new Message.Exit(0, false));
    }

    @Test
    void readsLineRangesAndByteCaps() throws Exception {
        Files.writeString(workspace.resolve("lines.txt"), "one\ntwo\nthree\nfour\n");
        assertThat(new String(read("lines.txt", 2, 2, 0).data())).isEqualTo("two\nthree\n");
        assertThat(new String(read("lines.txt", 3, 0, 0).data())).isEqualTo("three\nfour\n");
        assertThat(new String(read("lines.txt", 0, 0, 6).data())).isEqualTo("one\ntw");
        var r = read("lines.txt", 1, 1, 0);
        assertThat(((Message.FileInfo) r.head()).size()).as("total size, not the slice").isEqualTo(19);
    }

    /** A file whose stat size is not its length (/proc: 0) is read to its end all the same. */
    @Test
    void readsProcFilesWhoseSizeIsZero() throws Exception {
        var r = read("/proc/cpuinfo", 0, 0, 0);
        assertThat(((Message.FileInfo) r.head()).size()).as("what stat says").isZero();
        assertThat(new String(r.data())).contains("processor");
        assertThat(r.end()).isInstanceOf(Message.Exit.class);
        assertThat(new String(read("/proc/self/status", 0, 2, 0).data())).startsWith("Name:").contains("\n");
    }

    /** The stream's window (256 KB) holds the agent back after the head, so the change lands mid-read. */
    @Test
    void aFileThatShrinksOrGrowsWhileReadSendsWhatItHolds() throws Exception {
        byte[] original = new byte[4 * 1024 * 1024];
        new Random(3).nextBytes(original);
        Path shrinking = Files.write(workspace.resolve("shrinking.bin"), original);
        Stream s = host.open(new Message.FileRead("shrinking.bin", 0, 0, 0));
        assertThat(((Message.FileInfo) s.poll(10, TimeUnit.SECONDS)).size()).isEqualTo(original.length);
        try (var ch = java.nio.channels.FileChannel.open(shrinking, java.nio.file.StandardOpenOption.WRITE)) {
            ch.truncate(1024 * 1024);
        }
        var got = drain(s);
        assertThat(got.data()).isEqualTo(java.util.Arrays.copyOf(original, 1024 * 1024));
        assertThat(got.end()).isInstanceOf(Message.Exit.class);

        Path growing = Files.write(workspace.resolve("growing.bin"), original);
        s = host.open(new Message.FileRead("growing.bin", 0, 0, 0));
        assertThat(((Message.FileInfo) s.poll(10, TimeUnit.SECONDS)).size()).isEqualTo(original.length);
        Files.write(growing, original, java.nio.file.StandardOpenOption.APPEND);
        got = drain(s);
        assertThat(got.data()).hasSize(2 * original.length);
        assertThat(java.util.Arrays.copyOfRange(got.data(), original.length, 2 * original.length)).isEqualTo(original);
        assertThat(got.end()).isInstanceOf(Message.Exit.class);
    }

    static Read drain(Stream s) throws Exception {
        var data = new ByteArrayOutputStream();
        while (true) {
            Message m = s.poll(10, TimeUnit.SECONDS);
            if (m instanceof Message.Data d) data.write(d.bytes());
            else return new Read(null, data.toByteArray(), m);
        }
    }

    /** Setuid, setgid and sticky would not survive the ownership change: refused, nothing written. */
    @Test
    void modesBeyondPermissionBitsAreRefused() throws Exception {
        for (int mode : new int[]{04755, 02755, 01777, 010000}) {
            var e = (Message.Error) write("special-" + mode, new byte[]{1}, mode);
            assertThat(e.code()).isEqualTo("bad_request");
            assertThat(e.message()).contains("only permission bits");
            assertThat(workspace.resolve("special-" + mode)).doesNotExist();
        }
        assertThat(((Message.FileInfo) write("plain-0777", new byte[]{1}, 0777)).mode()).isEqualTo(0777);
    }

    @Test
    void errorsSayWhatIsWrong() throws Exception {
        assertThat(((Message.Error) read("missing.txt", 0, 0, 0).end()).code()).isEqualTo("not_found");
        assertThat(((Message.Error) read(workspace.toString(), 0, 0, 0).end()).code()).isEqualTo("is_directory");
        assertThat(((Message.Error) write(workspace.toString(), new byte[10], 0644)).code()).isEqualTo("is_directory");
        Files.writeString(workspace.resolve("plain"), "x");
        assertThat(((Message.Error) write("plain/child", new byte[1], 0644)).code()).isEqualTo("not_directory");
        assertThat(((Message.Error) write("", new byte[1], 0644)).code()).isEqualTo("bad_request");
    }

    @Test
    void aRefusedWriteOfMoreThanAWindowDoesNotHangTheSender() throws Exception {
        var reply = write(workspace.toString(), new byte[4 * Connection.INITIAL_WINDOW], 0644);
        assertThat(((Message.Error) reply).code()).isEqualTo("is_directory");
    }

    @Test
    void aWriterThatDisappearsLeavesNoFileBehind() throws Exception {
        Files.writeString(workspace.resolve("keep.txt"), "old");
        Stream s = host.open(new Message.FileWrite("keep.txt", 0644, ""));
        s.send(new Message.Data(Message.Channel.STDIN, "new content".getBytes()));
        await().atMost(Duration.ofSeconds(10)).until(() -> names(workspace).size() == 2); // the write's temporary file
        host.close(); // connection dropped mid-transfer
        await().atMost(Duration.ofSeconds(10)).until(() -> names(workspace).equals(java.util.List.of("keep.txt")));
        assertThat(Files.readString(workspace.resolve("keep.txt"))).isEqualTo("old");
    }

    @Test
    void listsEntriesWithoutFollowingLinks() throws Exception {
        Files.createDirectory(workspace.resolve("sub"));
        Files.writeString(workspace.resolve("a.txt"), "abc");
        Files.createSymbolicLink(workspace.resolve("link"), Path.of("/etc"));
        Stream s = host.open(new Message.FileListRequest(workspace.toString()));
        var list = (Message.FileList) s.poll(10, TimeUnit.SECONDS);
        assertThat(list.total()).isEqualTo(3);
        assertThat(list.entries()).extracting(Message.FileInfo::name).containsExactly("a.txt", "link", "sub");
        assertThat(list.entries()).extracting(Message.FileInfo::type).containsExactly("file", "symlink", "dir");
        assertThat(list.entries().getFirst().size()).isEqualTo(3);
        Stream st = host.open(new Message.FileStat("link"));
        assertThat(((Message.FileInfo) st.poll(10, TimeUnit.SECONDS)).type()).isEqualTo("symlink");
        Stream missing = host.open(new Message.FileListRequest("nope"));
        assertThat(((Message.Error) missing.poll(10, TimeUnit.SECONDS)).code()).isEqualTo("not_found");
    }

    private static java.util.List<String> names(Path dir) throws java.io.IOException {
        try (var files = Files.list(dir)) {
            return files.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }
}
