package dev.bhatti.server.api;

import dev.bhatti.engine.Detached;
import dev.bhatti.engine.ExecCommand;
import dev.bhatti.engine.ExecResult;
import dev.bhatti.server.auth.ApiKeys;
import dev.bhatti.server.error.DomainException;
import dev.bhatti.server.metrics.Metrics;
import dev.bhatti.server.sandbox.Limits;
import dev.bhatti.server.sandbox.SandboxService;
import org.eclipse.jetty.http.HttpHeader;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code POST /sandboxes/{id}/exec}: one command in the guest, answered whole (capped), streamed as
 * NDJSON events ({@code Accept: application/x-ndjson}), or detached with its output in a guest file.
 * Each exec that ran is timed into the metrics, by mode (a wake it needed included).
 */
final class ExecRoutes {
    static final int MAX_EXEC_OUTPUT = 10 * 1024 * 1024;
    static final String NDJSON = "application/x-ndjson";

    private final SandboxService sandboxes;
    private final Metrics metrics;

    ExecRoutes(SandboxService sandboxes, Metrics metrics) {
        this.sandboxes = sandboxes;
        this.metrics = metrics;
    }

    List<Route> routes() { return List.of(Route.keyed("POST", "/sandboxes/{id}/exec", this::exec)); }

    private Reply exec(Call c) throws IOException {
        ExecBody body = c.json(ExecBody.class);
        String id = c.param("id");
        ExecCommand command = command(body);
        long started = System.nanoTime();
        if (Boolean.TRUE.equals(body.detach())) {
            String output = body.outputFile() == null ? "/tmp/bhatti-exec-" + ApiKeys.randomHex(4) + ".log" : body.outputFile();
            if (!output.startsWith("/") || output.indexOf('\0') >= 0 || output.length() > 4096) {
                throw DomainException.invalid("output_file must be an absolute path");
            }
            Detached d = sandboxes.execDetached(c.user(), id, command, output);
            metrics.exec("detached", System.nanoTime() - started);
            return Reply.ok(Map.of("pid", d.pid(), "output_file", d.outputFile(), "detached", true));
        }
        if (body.outputFile() != null) throw DomainException.invalid("output_file needs detach: true");
        String accept = c.request().getHeaders().get(HttpHeader.ACCEPT);
        if (accept != null && accept.contains(NDJSON)) {
            try (var inUse = sandboxes.use(c.user(), id)) { // woken and checked once: a 404 or 409 is still a plain JSON error
                new NdjsonExec(c.response(), c.callback()).run(out -> inUse.call(guest -> guest.exec(command, out)));
            }
            metrics.exec("stream", System.nanoTime() - started);
            return Reply.STREAMED;
        }
        var output = new CappedOutput(MAX_EXEC_OUTPUT);
        ExecResult result = sandboxes.exec(c.user(), id, command, output);
        metrics.exec("buffered", System.nanoTime() - started);
        var reply = new LinkedHashMap<String, Object>();
        reply.put("exit_code", result.exitCode());
        reply.put("stdout", output.stdout());
        reply.put("stderr", output.stderr());
        if (result.timedOut()) reply.put("timed_out", true);
        if (output.truncated()) reply.put("truncated", true);
        return Reply.ok(reply);
    }

    /** Validates an exec body into an engine command. */
    private static ExecCommand command(ExecBody body) {
        if (body.cmd() == null || body.cmd().isEmpty()) throw DomainException.invalid("cmd must be a non-empty array of strings");
        for (String arg : body.cmd()) {
            if (arg == null || arg.indexOf('\0') >= 0) throw DomainException.invalid("cmd arguments must be strings without NUL bytes");
        }
        Map<String, String> env = body.env() == null ? Map.of() : body.env();
        env.forEach((k, v) -> {
            if (k == null || k.isEmpty() || k.indexOf('=') >= 0 || k.indexOf('\0') >= 0 || v == null || v.indexOf('\0') >= 0) {
                throw DomainException.invalid("invalid environment variable: " + Limits.printableKey(k));
            }
        });
        String beyond = ExecCommand.beyondGuestLimits(body.cmd(), env);
        if (beyond != null) throw DomainException.invalid(beyond);
        String cwd = body.cwd() == null ? "" : body.cwd();
        if (!cwd.isEmpty() && (!cwd.startsWith("/") || cwd.indexOf('\0') >= 0)) throw DomainException.invalid("cwd must be an absolute path");
        String guestUser = body.user() == null ? "" : body.user();
        if (!guestUser.isEmpty() && !guestUser.matches("[a-z_][a-z0-9_-]{0,31}|[0-9]{1,10}")) {
            throw DomainException.invalid("invalid user name");
        }
        int timeout = Limits.timeoutSec(body.timeoutSec());
        byte[] stdin = body.stdin() == null ? null : body.stdin().getBytes(StandardCharsets.UTF_8);
        return new ExecCommand(body.cmd(), env, cwd, guestUser, Duration.ofSeconds(timeout), stdin);
    }
}
