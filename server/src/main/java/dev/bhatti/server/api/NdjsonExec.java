package dev.bhatti.server.api;

import dev.bhatti.server.error.DomainException;
import dev.bhatti.engine.ExecListener;
import dev.bhatti.engine.ExecResult;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.OutputStream;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Function;

/**
 * Streams an exec as newline-delimited JSON: {@code stdout}/{@code stderr} events as output arrives
 * (each flushed on its own), then one {@code exit} or {@code error} event.
 */
final class NdjsonExec implements ExecListener {
    private static final Logger log = LoggerFactory.getLogger(NdjsonExec.class);

    private final Response response;
    private final Callback callback;
    private final OutputStream out;
    private final Utf8Chunks stdout = new Utf8Chunks();
    private final Utf8Chunks stderr = new Utf8Chunks();
    private boolean clientGone;

    NdjsonExec(Response response, Callback callback) {
        this.response = response;
        this.callback = callback;
        response.setStatus(200);
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, ExecRoutes.NDJSON);
        this.out = Content.Sink.asOutputStream(response);
    }

    void run(Function<ExecListener, ExecResult> exec) {
        try {
            ExecResult result = exec.apply(this);
            flushText();
            var exit = new LinkedHashMap<String, Object>();
            exit.put("type", "exit");
            exit.put("exit_code", result.exitCode());
            if (result.timedOut()) exit.put("timed_out", true);
            event(exit);
        } catch (DomainException e) {
            flushText();
            event(Json.fields("type", "error", "data", e.getMessage()));
        } catch (RuntimeException e) {
            log.error("streamed exec failed", e);
            event(Json.fields("type", "error", "data", "internal error"));
        }
        try {
            out.close();
            callback.succeeded();
        } catch (IOException e) {
            callback.failed(e);
        }
    }

    @Override public void stdout(byte[] bytes) { text("stdout", stdout.decode(bytes)); }

    @Override public void stderr(byte[] bytes) { text("stderr", stderr.decode(bytes)); }

    private void flushText() {
        text("stdout", stdout.finish());
        text("stderr", stderr.finish());
    }

    private void text(String type, String data) {
        if (!data.isEmpty()) event(Json.fields("type", type, "data", data));
    }

    private void event(Map<String, Object> event) {
        if (clientGone) return; // the command runs on to its end or timeout; its output is dropped
        try {
            out.write(Json.MAPPER.writeValueAsBytes(event));
            out.write('\n');
            out.flush();
        } catch (IOException e) {
            clientGone = true;
        }
    }
}
