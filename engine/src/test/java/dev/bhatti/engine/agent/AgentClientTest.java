package dev.bhatti.engine.agent;

import dev.bhatti.protocol.Codec;
import dev.bhatti.protocol.Frame;
import dev.bhatti.protocol.FrameIO;
import dev.bhatti.protocol.Message;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** The host's agent client against a scripted agent on a real Unix socket (the protocol, not a VM). */
class AgentClientTest {
    @TempDir Path dir;

    @Test
    @org.junit.jupiter.api.Timeout(60)
    void aForwardOpenLostToAnAgentRestartIsAskedAgainOnce() throws Exception {
        // own threads: the common pool may have a single worker on a small machine
        var threads = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor();
        Path socket = dir.resolve("agent.sock");
        var opens = new java.util.concurrent.atomic.AtomicInteger();
        try (var server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            server.bind(UnixDomainSocketAddress.of(socket));
            var agent = CompletableFuture.runAsync(() -> {
                try (SocketChannel ch = server.accept()) {
                    var io = new FrameIO(Channels.newInputStream(ch), Channels.newOutputStream(ch));
                    io.write(Codec.encode(0, new Message.Hello(Codec.PROTOCOL_VERSION, "agent-1")));
                    while (true) {
                        Frame f = io.read();
                        if (f == null) return;
                        Message m = Codec.decode(f).orElseThrow();
                        if (!(m instanceof Message.ForwardOpen)) continue; // the host's hello, credits
                        if (opens.incrementAndGet() == 1) {
                            // the port opened anew behind the connection: this open is lost
                            io.write(Codec.encode(0, new Message.Hello(Codec.PROTOCOL_VERSION, "agent-1")));
                            continue;
                        }
                        io.write(Codec.encode(f.stream(), new Message.Forwarded()));
                        io.write(Codec.encode(f.stream(), new Message.Data(Message.Channel.STDOUT, "from-guest".getBytes(StandardCharsets.UTF_8))));
                        io.write(Codec.encode(f.stream(), new Message.Exit(0, false)));
                    }
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            }, threads);
            try (var client = AgentClient.connect(socket, 5, TimeUnit.SECONDS);
                 var listener = ServerSocketChannel.open().bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
                 var user = SocketChannel.open(listener.getLocalAddress());
                 var hostSide = listener.accept()) {
                var tunnel = CompletableFuture.runAsync(() -> {
                    try {
                        client.tunnel(7000, hostSide, () -> { });
                    } catch (Exception e) {
                        throw new RuntimeException(e);
                    }
                }, threads);
                var buf = ByteBuffer.allocate(64);
                while (buf.position() < "from-guest".length() && user.read(buf) >= 0) { }
                assertThat(new String(buf.array(), 0, buf.position(), StandardCharsets.UTF_8)).isEqualTo("from-guest");
                tunnel.get(10, TimeUnit.SECONDS);
                assertThat(opens.get()).as("asked twice: the lost open and its retry").isEqualTo(2);
            }
            agent.cancel(true);
        } finally {
            threads.shutdownNow();
        }
    }
}
