package dev.bhatti.server.api;

import dev.bhatti.engine.GuestFile;
import dev.bhatti.engine.WatchSink;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;

import java.io.IOException;
import java.io.OutputStream;
import java.util.concurrent.TimeUnit;

/**
 * Writes a file watch as NDJSON: the guest's event lines pass through as they come (each flushed), an
 * empty line keeps a quiet stream alive every {@link #KEEPALIVE_SECONDS} s (and finds a client that has
 * gone: nothing else would until the next event), and an {@code error} line ends a watch that failed.
 */
final class NdjsonWatch implements WatchSink {

    static final long KEEPALIVE_SECONDS = 5;

    private final Response response;
    private final Callback callback;
    private final long maxEvents;
    private final long started = System.nanoTime();
    private final long timeoutNanos;
    private OutputStream out;
    private long sent;
    private long lastWrite;

    NdjsonWatch(Response response, Callback callback, long maxEvents, long timeoutSeconds) {
        this.response = response;
        this.callback = callback;
        this.maxEvents = maxEvents;
        this.timeoutNanos = timeoutSeconds > 0 ? TimeUnit.SECONDS.toNanos(timeoutSeconds) : 0;
    }

    boolean started() { return out != null; }

    @Override
    public void begin(GuestFile root) throws IOException {
        response.setStatus(200);
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, ExecRoutes.NDJSON);
        response.getHeaders().put("X-Watch-Path", root.name());
        out = Content.Sink.asOutputStream(response);
        out.flush(); // the headers go now: the client knows the watch is in place before any change it makes
        lastWrite = System.nanoTime();
    }

    @Override
    public boolean events(byte[] lines) throws IOException {
        int end = lines.length;
        for (int i = 0; i < lines.length; i++) {
            if (lines[i] == '\n' && ++sent == maxEvents) {
                end = i + 1;
                break;
            }
        }
        out.write(lines, 0, end);
        out.flush();
        lastWrite = System.nanoTime();
        return sent < maxEvents && !expired();
    }

    @Override
    public boolean idle() throws IOException {
        if (expired()) return false;
        if (System.nanoTime() - lastWrite >= TimeUnit.SECONDS.toNanos(KEEPALIVE_SECONDS)) {
            out.write('\n');
            out.flush();
            lastWrite = System.nanoTime();
        }
        return true;
    }

    private boolean expired() { return timeoutNanos > 0 && System.nanoTime() - started >= timeoutNanos; }

    void error(String message) {
        try {
            out.write(Json.MAPPER.writeValueAsBytes(Json.fields("type", "error", "message", message)));
            out.write('\n');
        } catch (IOException e) {
            // the client is gone too
        }
    }

    void finish() {
        try {
            out.close();
            callback.succeeded();
        } catch (IOException e) {
            callback.failed(e);
        }
    }
}
