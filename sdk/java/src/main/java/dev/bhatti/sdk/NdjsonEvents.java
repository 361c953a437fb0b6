package dev.bhatti.sdk;

import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.Iterator;
import java.util.NoSuchElementException;

/**
 * A streamed exec's events from its NDJSON body, one line each, read as they are asked for. A stream is
 * complete only with its {@code exit} event: one that ends before it (the connection closed, a line cut
 * in half) is a {@link ConnectionFailed}, never a silent end; an {@code error} event is the daemon's
 * failure ({@link ServerError}). Event types this SDK does not know are skipped (a newer daemon's).
 */
final class NdjsonEvents implements Iterator<ExecEvent>, AutoCloseable {
    /** No event is this long (output comes in small chunks): a longer line is not the API. */
    static final int MAX_LINE = 16 * 1024 * 1024;

    private final InputStream in;
    private final String source;
    private final ByteArrayOutputStream line = new ByteArrayOutputStream(256);
    private final byte[] buf = new byte[8192];
    private int pos;
    private int end;
    private ExecEvent next;
    private boolean exited;

    /** {@code source} names where the stream comes from, for messages. */
    NdjsonEvents(InputStream in, String source) {
        this.in = in;
        this.source = source;
    }

    @Override
    public boolean hasNext() {
        while (next == null && !exited) {
            byte[] l = readLine();
            if (l == null) throw new ConnectionFailed("the exec stream from " + source + " ended before the command did (no exit event)", null);
            next = parse(l);
        }
        return next != null;
    }

    @Override
    public ExecEvent next() {
        if (!hasNext()) throw new NoSuchElementException("the command has exited");
        ExecEvent e = next;
        next = null;
        return e;
    }

    /** One event, or null for a line to skip (blank, or of a type not known here). */
    private ExecEvent parse(byte[] l) {
        if (isBlank(l)) return null;
        JsonNode event;
        try {
            event = Json.MAPPER.readTree(l);
        } catch (JacksonException e) {
            throw new ServerError("the exec stream from " + source + " held a line that is not JSON", 0);
        }
        return switch (event.path("type").asString("")) {
            case "stdout" -> new ExecEvent.Stdout(event.path("data").asString(""));
            case "stderr" -> new ExecEvent.Stderr(event.path("data").asString(""));
            case "exit" -> {
                exited = true;
                yield new ExecEvent.Exit(event.path("exit_code").asInt(-1), event.path("timed_out").asBoolean(false));
            }
            case "error" -> throw new ServerError("the exec failed: " + event.path("data").asString(event.path("message").asString("no reason given")), 0);
            default -> null;
        };
    }

    /** The next line without its newline; null at the end of the stream between lines. */
    private byte[] readLine() {
        line.reset();
        while (true) {
            if (pos == end) {
                int n;
                try {
                    n = in.read(buf);
                } catch (IOException e) {
                    throw new ConnectionFailed("the exec stream from " + source + " broke off before the command ended: " + Transport.describe(e), e);
                }
                if (n < 0) {
                    if (line.size() == 0) return null;
                    throw new ConnectionFailed("the exec stream from " + source + " ended in the middle of an event", null);
                }
                pos = 0;
                end = n;
            }
            int start = pos;
            while (pos < end && buf[pos] != '\n') pos++;
            line.write(buf, start, pos - start);
            if (line.size() > MAX_LINE) throw new ServerError("the exec stream from " + source + " sent a line longer than " + MAX_LINE + " bytes", 0);
            if (pos < end) {
                pos++; // the newline
                return line.toByteArray();
            }
        }
    }

    private static boolean isBlank(byte[] l) {
        for (byte b : l) if (b != ' ' && b != '\t' && b != '\r') return false;
        return true;
    }

    /** Ends the stream (and its connection, if the command has not exited yet). */
    @Override
    public void close() {
        try {
            in.close();
        } catch (IOException e) {
            // closing only
        }
    }
}
