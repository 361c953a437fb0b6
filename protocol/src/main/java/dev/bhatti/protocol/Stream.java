package dev.bhatti.protocol;

import java.io.IOException;
import java.util.Arrays;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One operation on a {@link Connection}. Messages arrive in order through {@link #take}; data is
 * credited back to the sender as it is taken, so an unread stream holds at most one window.
 */
public final class Stream {

    private final Connection connection;
    private final int id;
    private final LinkedBlockingQueue<Object> inbox = new LinkedBlockingQueue<>();
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition creditAvailable = lock.newCondition();
    private long sendCredit = Connection.INITIAL_WINDOW;
    private long unreadBytes;
    private volatile IOException failure;
    private volatile boolean finished;
    /** The peer ended the stream (exit or error): sending more is pointless and must not block. */
    private volatile boolean peerEnded;

    Stream(Connection connection, int id) {
        this.connection = connection;
        this.id = id;
    }

    public int id() { return id; }

    /** Sends a message; data waits for credit and is chunked. An exit or error finishes the stream. */
    public void send(Message message) throws IOException {
        if (message instanceof Message.Data d) {
            byte[] b = d.bytes();
            for (int off = 0; off < b.length; off += Connection.CHUNK) {
                int n = Math.min(Connection.CHUNK, b.length - off);
                acquireCredit(n);
                connection.send(id, new Message.Data(d.channel(), Arrays.copyOfRange(b, off, off + n)));
            }
            return;
        }
        connection.send(id, message);
        if (ends(message)) finish();
    }

    private static boolean ends(Message m) {
        return m instanceof Message.Exit || m instanceof Message.Error || m instanceof Message.Detached;
    }

    /** Next message, waiting at most the given time; null on timeout. */
    public Message poll(long timeout, TimeUnit unit) throws IOException, InterruptedException {
        Object o = inbox.poll(timeout, unit);
        return o == null ? null : accept(o);
    }

    /** Next message, waiting as long as needed. */
    public Message take() throws IOException, InterruptedException {
        return accept(inbox.take());
    }

    /** Stops tracking this stream; later frames for it are dropped. */
    public void finish() {
        finished = true;
        connection.forget(id);
    }

    private Message accept(Object o) throws IOException {
        if (o instanceof IOException e) {
            inbox.add(e); // keep failing for later callers too
            throw new IOException(e.getMessage(), e);
        }
        Message m = (Message) o;
        if (m instanceof Message.Data d && d.bytes().length > 0 && !finished) {
            lock.lock();
            try { unreadBytes -= d.bytes().length; } finally { lock.unlock(); }
            try {
                connection.send(id, new Message.Window(d.bytes().length));
            } catch (IOException ignored) {
                // the connection is gone; the failure reaches the reader through the inbox
            }
        }
        if (ends(m)) finish();
        return m;
    }

    void deliver(Message m) throws ProtocolException {
        switch (m) {
            case Message.Window w -> {
                lock.lock();
                try {
                    sendCredit += w.bytes();
                    creditAvailable.signalAll();
                } finally { lock.unlock(); }
            }
            case Message.Data d -> {
                lock.lock();
                try {
                    unreadBytes += d.bytes().length;
                    if (unreadBytes > Connection.INITIAL_WINDOW) {
                        throw new ProtocolException("peer overran the window of stream " + id);
                    }
                } finally { lock.unlock(); }
                inbox.add(m);
            }
            default -> {
                inbox.add(m);
                if (ends(m)) {
                    peerEnded = true;
                    lock.lock();
                    try { creditAvailable.signalAll(); } finally { lock.unlock(); }
                }
            }
        }
    }

    /** Thrown to a sender whose peer already ended the stream; its reply is waiting in {@link #take}. */
    public static final class PeerEndedException extends IOException {
        PeerEndedException() { super("the peer ended the stream"); }
    }

    void fail(IOException cause) {
        failure = cause;
        inbox.add(cause);
        lock.lock();
        try { creditAvailable.signalAll(); } finally { lock.unlock(); }
    }

    private void acquireCredit(int n) throws IOException {
        lock.lock();
        try {
            while (sendCredit < n) {
                if (failure != null) throw new IOException(failure.getMessage(), failure);
                if (peerEnded) throw new PeerEndedException();
                creditAvailable.await(1, TimeUnit.SECONDS);
            }
            sendCredit -= n;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while waiting for the peer to read", e);
        } finally {
            lock.unlock();
        }
    }
}
