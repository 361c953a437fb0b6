package dev.bhatti.server.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A TCP proxy on loopback in front of a local server, for faults: it can cut every connection once
 * the server has sent it a given number of bytes (headers included), and it keeps what clients sent
 * (their HTTP requests, to look for a header) and counts what the server sent back.
 */
public final class TcpProxy implements AutoCloseable {
    private final int targetPort;
    private final ServerSocket server;
    private final Set<Socket> open = ConcurrentHashMap.newKeySet();
    private final ByteArrayOutputStream sent = new ByteArrayOutputStream();
    private final AtomicLong received = new AtomicLong();
    private volatile long cutAfter = -1;

    public TcpProxy(int targetPort) throws IOException {
        this.targetPort = targetPort;
        server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread.ofVirtual().name("tcp-proxy-accept").start(this::accept);
    }

    public int port() { return server.getLocalPort(); }

    /** Connections opened from now on are cut after {@code bytes} from the server; negative: never. */
    public void cutAfter(long bytes) { cutAfter = bytes; }

    /** Everything clients sent through the proxy, as text. */
    public String sent() {
        synchronized (sent) {
            return sent.toString(StandardCharsets.ISO_8859_1);
        }
    }

    /** How many bytes the server sent through the proxy. */
    public long received() { return received.get(); }

    private void accept() {
        while (true) {
            Socket client;
            try {
                client = server.accept();
            } catch (IOException e) {
                return; // closed
            }
            try {
                Socket target = new Socket(InetAddress.getLoopbackAddress(), targetPort);
                open.add(client);
                open.add(target);
                long limit = cutAfter;
                Thread.ofVirtual().start(() -> pump(client, target, Long.MAX_VALUE, true));
                Thread.ofVirtual().start(() -> pump(target, client, limit < 0 ? Long.MAX_VALUE : limit, false));
            } catch (IOException e) {
                close(client); // the server is down: so is this connection
            }
        }
    }

    private static void close(Socket s) {
        try {
            s.close();
        } catch (IOException ignored) {
            // already gone
        }
    }

    /** Copies {@code from} to {@code to} until either end closes or {@code limit} bytes went, then closes both. */
    private void pump(Socket from, Socket to, long limit, boolean fromClient) {
        try (from; to) {
            InputStream in = from.getInputStream();
            OutputStream out = to.getOutputStream();
            byte[] buf = new byte[8192];
            long done = 0;
            for (int n; done < limit && (n = in.read(buf, 0, (int) Math.min(buf.length, limit - done))) > 0; done += n) {
                out.write(buf, 0, n);
                out.flush();
                if (fromClient) {
                    synchronized (sent) {
                        sent.write(buf, 0, n);
                    }
                } else {
                    received.addAndGet(n);
                }
            }
        } catch (IOException e) {
            // the other direction closed the sockets: this connection is over
        } finally {
            open.remove(from);
            open.remove(to);
        }
    }

    @Override
    public void close() throws IOException {
        server.close();
        open.forEach(TcpProxy::close);
    }
}
