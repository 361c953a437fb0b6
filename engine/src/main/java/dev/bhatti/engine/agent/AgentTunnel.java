package dev.bhatti.engine.agent;

import dev.bhatti.engine.EngineException;
import dev.bhatti.engine.EngineException.Kind;
import dev.bhatti.protocol.Connection;
import dev.bhatti.protocol.Message;
import dev.bhatti.protocol.PeerRestartedException;
import dev.bhatti.protocol.Stream;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.util.concurrent.TimeUnit;

/**
 * One forwarded connection: a stream to the guest's TCP port, the client's bytes up and the guest's
 * down, waking the VM whenever the client sends (see {@link AgentClient#tunnel}).
 */
record AgentTunnel(Connection connection) {

    void relay(int port, SocketChannel client, Runnable wake) throws EngineException, InterruptedException {
        Stream stream = openForward(port, wake);
        Thread up = Thread.ofVirtual().start(() -> clientToGuest(client, stream, wake));
        try {
            while (true) {
                Message m = stream.poll(1, TimeUnit.SECONDS);
                if (m == null) {
                    if (!client.isOpen()) return;
                    continue;
                }
                switch (m) {
                    case Message.Data d -> {
                        ByteBuffer b = ByteBuffer.wrap(d.bytes());
                        while (b.hasRemaining()) client.write(b);
                    }
                    case Message.Eof e -> client.shutdownOutput();
                    case Message.Exit x -> { return; }
                    case Message.Error e -> { return; }
                    default -> { }
                }
            }
        } catch (IOException e) {
            // the client or the agent went away
            try { stream.send(new Message.Error("aborted", "client gone")); } catch (IOException ignored) { }
        } finally {
            up.interrupt();
            stream.finish();
        }
    }

    /** Opens a forward to the guest port and waits (30 s at most) for the agent's answer, waking the VM meanwhile. */
    private Stream openForward(int port, Runnable wake) throws EngineException, InterruptedException {
        for (int attempt = 1; ; attempt++) {
            Stream stream;
            Message first = null;
            try {
                stream = connection.open(new Message.ForwardOpen(port));
                for (int waited = 0; first == null && waited < 30; waited++) {
                    first = stream.poll(1, TimeUnit.SECONDS);
                    if (first == null) wakeOrEnd(stream, wake);
                }
            } catch (IOException e) {
                // An open lost to an agent restart carried none of the client's bytes (they flow only once
                // it is answered), so it is asked again; after a daemon restart the guest may reopen its
                // port late, once, behind the new connection.
                if (attempt == 1 && PeerRestartedException.isCause(e)) continue;
                throw new EngineException(Kind.FAILED, "lost the sandbox's agent: " + e.getMessage(), e);
            }
            if (first instanceof Message.Forwarded) return stream;
            stream.finish();
            if (first instanceof Message.Error e) {
                throw new EngineException(e.code().equals("bad_request") ? Kind.INVALID : Kind.MISSING, e.message());
            }
            throw new EngineException(Kind.FAILED, "the guest agent did not open the forward");
        }
    }

    private static void wakeOrEnd(Stream stream, Runnable wake) throws EngineException {
        try {
            wake.run();
        } catch (RuntimeException e) {
            stream.finish();
            throw new EngineException(Kind.NOT_RUNNING, e.getMessage(), e);
        }
    }

    private static void clientToGuest(SocketChannel client, Stream stream, Runnable beforeClientBytes) {
        ByteBuffer buf = ByteBuffer.allocate(32 * 1024);
        try {
            while (client.read(buf) >= 0) {
                buf.flip();
                byte[] b = new byte[buf.remaining()];
                buf.get(b);
                buf.clear();
                if (b.length == 0) continue;
                try {
                    beforeClientBytes.run();
                } catch (RuntimeException e) { // the VM cannot take them: end the tunnel (its loop sees the client closed)
                    client.close();
                    return;
                }
                stream.send(new Message.Data(Message.Channel.STDIN, b));
            }
            stream.send(new Message.Eof(Message.Channel.STDIN));
        } catch (IOException e) {
            try { stream.send(new Message.Error("aborted", "client connection failed")); } catch (IOException ignored) { }
        }
    }
}
