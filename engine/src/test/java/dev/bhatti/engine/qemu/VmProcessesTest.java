package dev.bhatti.engine.qemu;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.ConnectException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Connecting to a starting QEMU's socket. Its file exists from bind() but connects are refused until
 * listen(); a socket file whose listener has closed is refused the same way, which stands in for that moment.
 */
class VmProcessesTest {
    @TempDir Path dir;

    /** A socket file that refuses connections, as QEMU's does between bind() and listen(). */
    private Path refusingSocket() throws IOException {
        Path socket = dir.resolve("agent.sock");
        ServerSocketChannel.open(StandardProtocolFamily.UNIX).bind(UnixDomainSocketAddress.of(socket)).close();
        assertThat(socket).exists();
        try (var ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            assertThatThrownBy(() -> ch.connect(UnixDomainSocketAddress.of(socket))).isInstanceOf(ConnectException.class);
        }
        return socket;
    }

    @Test
    void aRefusedConnectIsTriedAgainUntilTheSocketListens() throws Exception {
        Path socket = refusingSocket();
        var listening = CompletableFuture.supplyAsync(() -> {
            try {
                Thread.sleep(300);
                Files.delete(socket);
                var server = ServerSocketChannel.open(StandardProtocolFamily.UNIX).bind(UnixDomainSocketAddress.of(socket));
                try (SocketChannel accepted = server.accept()) {
                    accepted.write(ByteBuffer.wrap(new byte[] {42}));
                }
                return server;
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        try (SocketChannel ch = VmProcesses.connectWhenListening(socket, ProcessHandle.current(),
                System.nanoTime() + TimeUnit.SECONDS.toNanos(10))) {
            var buf = ByteBuffer.allocate(1);
            ch.read(buf);
            assertThat(buf.array()[0]).as("connected to the listener that came up").isEqualTo((byte) 42);
        }
        listening.get(10, TimeUnit.SECONDS).close();
    }

    @Test
    void aMissingSocketFileIsWaitedFor() throws Exception {
        Path socket = dir.resolve("qmp.sock");
        var listening = CompletableFuture.supplyAsync(() -> {
            try {
                Thread.sleep(300);
                return ServerSocketChannel.open(StandardProtocolFamily.UNIX).bind(UnixDomainSocketAddress.of(socket));
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        try (SocketChannel ch = VmProcesses.connectWhenListening(socket, ProcessHandle.current(),
                System.nanoTime() + TimeUnit.SECONDS.toNanos(10))) {
            assertThat(ch.isConnected()).isTrue();
        }
        listening.get(10, TimeUnit.SECONDS).close();
    }

    @Test
    void itGivesUpWhenQemuHasExitedOrTimeIsUp() throws Exception {
        Path socket = refusingSocket();
        Process exited = new ProcessBuilder("true").start();
        exited.waitFor();
        assertThatThrownBy(() -> VmProcesses.connectWhenListening(socket, exited.toHandle(), System.nanoTime() + TimeUnit.SECONDS.toNanos(10)))
                .isInstanceOf(IOException.class).hasMessageContaining("QEMU exited before it listened on agent.sock");
        assertThatThrownBy(() -> VmProcesses.connectWhenListening(socket, ProcessHandle.current(), System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(200)))
                .isInstanceOf(IOException.class).hasMessageContaining("did not listen on agent.sock in time");
    }
}
