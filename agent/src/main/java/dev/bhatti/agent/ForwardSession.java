package dev.bhatti.agent;

import dev.bhatti.protocol.Message;
import dev.bhatti.protocol.Message.Channel;
import dev.bhatti.protocol.Stream;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;

/**
 * Relays one forwarded TCP connection between the host (over the stream) and a port on the guest's
 * loopback. Each direction ends with a half-close, so protocols that shut down one side still work.
 */
final class ForwardSession {
    private static final int CONNECT_TIMEOUT_MILLIS = 5_000;

    private final Stream stream;
    private final int port;

    ForwardSession(Stream stream, Message.ForwardOpen request) {
        this.stream = stream;
        this.port = request.port();
    }

    void run() {
        try (Socket socket = new Socket()) {
            if (port < 1 || port > 65535) {
                stream.send(new Message.Error("bad_request", "port must be from 1 to 65535"));
                return;
            }
            try {
                socket.connect(new InetSocketAddress("127.0.0.1", port), CONNECT_TIMEOUT_MILLIS);
            } catch (IOException e) {
                stream.send(new Message.Error("refused", "nothing accepts connections on guest port " + port + ": " + e.getMessage()));
                return;
            }
            socket.setTcpNoDelay(true);
            stream.send(new Message.Forwarded());
            Thread up = Thread.ofVirtual().start(() -> guestToHost(socket));
            hostToGuest(socket);
            up.join();
            stream.send(new Message.Exit(0, false));
        } catch (IOException e) {
            // the host went away: closing the socket ends the guest side too
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            stream.finish();
        }
    }

    private void guestToHost(Socket socket) {
        byte[] buf = new byte[32 * 1024];
        try {
            InputStream in = socket.getInputStream();
            int n;
            while ((n = in.read(buf)) > 0) stream.send(new Message.Data(Channel.STDOUT, Arrays.copyOf(buf, n)));
            stream.send(new Message.Eof(Channel.STDOUT));
        } catch (IOException e) {
            try { socket.close(); } catch (IOException ignored) { }
        }
    }

    private void hostToGuest(Socket socket) throws IOException, InterruptedException {
        OutputStream out = socket.getOutputStream();
        while (!socket.isClosed()) {
            Message m = stream.poll(1, TimeUnit.SECONDS);
            switch (m) {
                case null -> { }
                case Message.Data d when d.channel() == Channel.STDIN -> {
                    try {
                        out.write(d.bytes());
                    } catch (IOException e) {
                        return; // the guest side closed; the other direction finishes by itself
                    }
                }
                case Message.Eof e -> {
                    socket.shutdownOutput();
                    return;
                }
                case Message.Error e -> {
                    socket.close();
                    return;
                }
                default -> { }
            }
        }
    }
}
