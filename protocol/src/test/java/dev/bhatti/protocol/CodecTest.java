package dev.bhatti.protocol;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class CodecTest {

    @Test
    void everyMessageSurvivesTheWire() throws IOException {
        List<Message> all = List.of(
                new Message.Hello(1, "agent/1"),
                new Message.HelloReply(1, "agent/1"),
                new Message.Ping(42), new Message.Pong(42),
                new Message.ExecRequest(List.of("sh", "-c", "echo é"), Map.of("A", "1", "B", ""), "/tmp", "root", 1500, true),
                new Message.DetachRequest(List.of("sleep", "9"), Map.of("K", "V"), "/", "", "/tmp/out.log"),
                new Message.Detached(4242, "/tmp/out.log"),
                new Message.FileRead("/etc/hosts", 2, 10, 4096),
                new Message.FileWrite("/workspace/a b", 0640, ""),
                new Message.FileStat("/x"), new Message.FileListRequest("/"), new Message.FileWatch("/workspace"),
                new Message.FileInfo("a.txt", 12, 0644, "file", 1_700_000_000_000L),
                new Message.FileList(List.of(new Message.FileInfo("d", 4096, 0755, "dir", 1)), 1),
                new Message.SessionStart("", List.of("bash", "-li"), Map.of("TERM", "xterm"), "/workspace", "", true, 24, 80, 3600),
                new Message.SessionAttach("s1", true),
                new Message.SessionInfo("s1", List.of("bash"), true, false, 130, true, 5),
                new Message.Resize(50, 200), new Message.Detach(), new Message.SessionListRequest(),
                new Message.SessionList(List.of(new Message.SessionInfo("s2", List.of("sh"), false, true, 0, false, 9))),
                new Message.SessionKill("s2", 15), new Message.ForwardOpen(3000), new Message.Forwarded(),
                new Message.Eof(Message.Channel.STDIN),
                new Message.Window(4096),
                new Message.Kill(15),
                new Message.Exit(137, true),
                new Message.Error("bad_request", "no such user"));
        var bytes = new ByteArrayOutputStream();
        var writer = new FrameIO(new ByteArrayInputStream(new byte[0]), bytes);
        for (Message m : all) writer.write(Codec.encode(7, m));
        writer.write(Codec.encode(7, new Message.Data(Message.Channel.STDERR, new byte[]{0, 1, 2, (byte) 255})));
        writer.write(Codec.encode(7, new Message.Resumed(1_800_000_000_123L, "clone", new byte[]{9, 8, 7})));

        var reader = new FrameIO(new ByteArrayInputStream(bytes.toByteArray()), OutputStreamNull.INSTANCE);
        for (Message expected : all) {
            Frame f = reader.read();
            assertThat(f.stream()).isEqualTo(7);
            assertThat(Codec.decode(f)).contains(expected);
        }
        var data = (Message.Data) Codec.decode(reader.read()).orElseThrow();
        assertThat(data.channel()).isEqualTo(Message.Channel.STDERR);
        assertThat(data.bytes()).containsExactly(0, 1, 2, 255);
        var resumed = (Message.Resumed) Codec.decode(reader.read()).orElseThrow();
        assertThat(resumed.epochMillis()).isEqualTo(1_800_000_000_123L);
        assertThat(resumed.hostname()).isEqualTo("clone");
        assertThat(resumed.entropy()).containsExactly(9, 8, 7);
        assertThat(reader.read()).as("clean end of stream").isNull();
    }

    @Test
    void unknownTypesAreSkippedForForwardCompatibility() throws ProtocolException {
        assertThat(Codec.decode(new Frame(0xEE, 3, new byte[]{1, 2, 3}))).isEmpty();
    }

    @Test
    void malformedPayloadsAreProtocolErrors() {
        assertThatThrownBy(() -> Codec.decode(new Frame(Codec.EXIT, 1, new byte[]{0, 0})))
                .isInstanceOf(ProtocolException.class).hasMessageContaining("truncated");
        // a string length pointing past the payload
        byte[] lying = ByteBuffer.allocate(8).putInt(1).putInt(1_000_000).array();
        assertThatThrownBy(() -> Codec.decode(new Frame(Codec.EXEC_REQUEST, 1, lying)))
                .isInstanceOf(ProtocolException.class);
        assertThatThrownBy(() -> Codec.decode(new Frame(Codec.WINDOW, 1, ByteBuffer.allocate(4).putInt(-5).array())))
                .isInstanceOf(ProtocolException.class).hasMessageContaining("positive");
        assertThatThrownBy(() -> Codec.decode(new Frame(Codec.DATA, 1, new byte[]{9})))
                .isInstanceOf(ProtocolException.class).hasMessageContaining("channel");
        // an exec request with empty argv is refused rather than run
        byte[] noArgv = ByteBuffer.allocate(4 + 4 + 4 + 4 + 8 + 1).putInt(0).putInt(0).putInt(0).putInt(0).putLong(0).put((byte) 0).array();
        assertThatThrownBy(() -> Codec.decode(new Frame(Codec.EXEC_REQUEST, 1, noArgv)))
                .isInstanceOf(ProtocolException.class).hasMessageContaining("argv");
    }

    @Test
    void oversizedOrTruncatedFramesAreRejected() {
        byte[] huge = ByteBuffer.allocate(9).putInt(Frame.MAX_PAYLOAD + 100).put((byte) 1).putInt(0).array();
        assertThatThrownBy(() -> new FrameIO(new ByteArrayInputStream(huge), OutputStreamNull.INSTANCE).read())
                .isInstanceOf(ProtocolException.class).hasMessageContaining("bad frame length");
        byte[] cut = ByteBuffer.allocate(9).putInt(50).put((byte) 1).putInt(0).array();
        assertThatThrownBy(() -> new FrameIO(new ByteArrayInputStream(cut), OutputStreamNull.INSTANCE).read())
                .isInstanceOf(IOException.class);
    }

    enum OutputStreamNull {
        ;
        static final java.io.OutputStream INSTANCE = java.io.OutputStream.nullOutputStream();
    }
}
