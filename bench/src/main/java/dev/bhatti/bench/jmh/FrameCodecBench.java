package dev.bhatti.bench.jmh;

import dev.bhatti.protocol.Codec;
import dev.bhatti.protocol.Frame;
import dev.bhatti.protocol.FrameIO;
import dev.bhatti.protocol.Message;
import dev.bhatti.protocol.ProtocolException;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.io.InputStream;
import java.io.OutputStream;

/** The agent protocol's codec: an exec request and a 4 KiB data frame, encoded, decoded and through FrameIO. */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class FrameCodecBench {
    private Message.ExecRequest exec;
    private Message.Data data;
    private Frame execFrame;
    private Frame dataFrame;
    private byte[] dataWire;

    @Setup
    public void setUp() throws IOException {
        exec = new Message.ExecRequest(List.of("sha256sum", "/bin/busybox"), Map.of("LANG", "C.UTF-8", "TERM", "xterm"),
                "/workspace", "", 300_000, false);
        data = new Message.Data(Message.Channel.STDOUT, new byte[4096]);
        execFrame = Codec.encode(7, exec);
        dataFrame = Codec.encode(7, data);
        var out = new ByteArrayOutputStream();
        new FrameIO(InputStreamNothing.INSTANCE, out).write(dataFrame);
        dataWire = out.toByteArray();
    }

    @Benchmark public Frame encodeExecRequest() { return Codec.encode(7, exec); }

    @Benchmark public Optional<Message> decodeExecRequest() throws ProtocolException { return Codec.decode(execFrame); }

    @Benchmark public Frame encodeData4k() { return Codec.encode(7, data); }

    @Benchmark public Optional<Message> decodeData4k() throws ProtocolException { return Codec.decode(dataFrame); }

    /** A 4 KiB data frame written to and read back from byte streams (the wire format, no socket). */
    @Benchmark
    public Frame frameIoWriteRead4k() throws IOException {
        var out = new ByteArrayOutputStream(dataWire.length);
        new FrameIO(InputStreamNothing.INSTANCE, out).write(dataFrame);
        return new FrameIO(new ByteArrayInputStream(out.toByteArray()), OutputStreamNothing.INSTANCE).read();
    }

    static final class InputStreamNothing extends InputStream {
        static final InputStreamNothing INSTANCE = new InputStreamNothing();
        @Override public int read() { return -1; }
    }

    static final class OutputStreamNothing extends OutputStream {
        static final OutputStreamNothing INSTANCE = new OutputStreamNothing();
        @Override public void write(int b) { }
    }
}
