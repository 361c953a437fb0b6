package dev.bhatti.engine.qemu;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.locks.ReentrantLock;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A QEMU Machine Protocol client: one JSON object per line over the VM's QMP Unix socket. Commands are
 * serialized (QMP answers in order); asynchronous events arriving in between are skipped. The engine
 * module has no JSON library, and QMP's replies that matter here are flat, so a few patterns read them.
 */
final class Qmp implements AutoCloseable {

    private static final Pattern STATUS = Pattern.compile("\"status\"\\s*:\\s*\"([a-z-]+)\"");
    private static final Pattern ERROR_DESC = Pattern.compile("\"desc\"\\s*:\\s*\"((?:[^\"\\\\]|\\\\.)*)\"");

    private final SocketChannel channel;
    private final BufferedReader in;
    private final OutputStream out;
    private final ReentrantLock lock = new ReentrantLock();

    private Qmp(SocketChannel channel) {
        this.channel = channel;
        this.in = new BufferedReader(new InputStreamReader(Channels.newInputStream(channel), StandardCharsets.UTF_8));
        this.out = Channels.newOutputStream(channel);
    }

    /** Connects, reads the greeting and leaves capabilities negotiation mode. */
    static Qmp connect(Path socket) throws IOException {
        SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            ch.connect(UnixDomainSocketAddress.of(socket));
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
        return over(ch);
    }

    /** Reads the greeting on a connected channel and leaves capabilities negotiation mode; closes it on failure. */
    static Qmp over(SocketChannel ch) throws IOException {
        try {
            var qmp = new Qmp(ch);
            String greeting = qmp.in.readLine();
            if (greeting == null || !greeting.contains("\"QMP\"")) throw new IOException("not a QMP socket: " + greeting);
            qmp.execute("qmp_capabilities", null);
            return qmp;
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
    }

    /**
     * Runs one command and returns its raw {@code return} line; a QMP error becomes an IOException with
     * QEMU's description. {@code argumentsJson} is a JSON object literal, or null.
     */
    String execute(String command, String argumentsJson) throws IOException {
        lock.lock();
        try {
            String request = "{\"execute\":\"" + command + "\"" + (argumentsJson == null ? "" : ",\"arguments\":" + argumentsJson) + "}\n";
            String line;
            try {
                out.write(request.getBytes(StandardCharsets.UTF_8));
                out.flush();
            } catch (IOException e) {
                close(); // a broken connection is not used again: the engine's next command reconnects
                throw e;
            }
            while (true) {
                try {
                    line = in.readLine();
                } catch (IOException e) {
                    close();
                    throw e;
                }
                if (line == null) {
                    close();
                    throw new IOException("QEMU closed its QMP socket during " + command);
                }
                if (line.startsWith("{\"return\"")) return line;
                if (line.startsWith("{\"error\"")) {
                    Matcher m = ERROR_DESC.matcher(line);
                    throw new IOException(command + ": " + (m.find() ? m.group(1) : line));
                }
                // {"event": ...}: asynchronous, not an answer
            }
        } finally {
            lock.unlock();
        }
    }

    /** The VM's run state: running, paused, postmigrate, inmigrate, prelaunch, ... */
    String runState() throws IOException {
        return field(execute("query-status", null), STATUS);
    }

    /** The migration status: none, setup, active, completed, failed, cancelled. */
    String migrationStatus() throws IOException {
        String reply = execute("query-migrate", null);
        String status = field(reply, STATUS);
        return status == null ? "none" : status;
    }

    /** The error QEMU recorded for a failed migration, if any. */
    String migrationError() throws IOException {
        Matcher m = Pattern.compile("\"error-desc\"\\s*:\\s*\"((?:[^\"\\\\]|\\\\.)*)\"").matcher(execute("query-migrate", null));
        return m.find() ? m.group(1) : "";
    }

    static String jsonString(String s) {
        var b = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                default -> {
                    if (c < 0x20) b.append(String.format("\\u%04x", (int) c));
                    else b.append(c);
                }
            }
        }
        return b.append('"').toString();
    }

    static String object(Map<String, String> jsonValues) {
        var b = new StringBuilder("{");
        jsonValues.forEach((k, v) -> b.append(b.length() > 1 ? "," : "").append(jsonString(k)).append(':').append(v));
        return b.append('}').toString();
    }

    private static String field(String line, Pattern p) {
        Matcher m = p.matcher(line);
        return m.find() ? m.group(1) : null;
    }

    boolean isOpen() { return channel.isOpen(); }

    @Override
    public void close() {
        try {
            channel.close();
        } catch (IOException ignored) {
            // already closed
        }
    }
}
