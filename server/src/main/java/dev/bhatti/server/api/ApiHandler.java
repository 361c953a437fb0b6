package dev.bhatti.server.api;

import dev.bhatti.server.error.DomainException;
import dev.bhatti.engine.Detached;
import dev.bhatti.engine.ExecCommand;
import dev.bhatti.engine.ExecResult;
import dev.bhatti.server.auth.ApiKeys;
import dev.bhatti.server.events.Events;
import dev.bhatti.server.forward.Forwards;
import dev.bhatti.server.publish.ProxyBackends;
import dev.bhatti.server.publish.PublishService;
import dev.bhatti.server.ratelimit.RateLimits;
import dev.bhatti.server.secrets.SecretService;
import dev.bhatti.server.sandbox.Limits;
import dev.bhatti.server.sandbox.SandboxService;
import dev.bhatti.server.sandbox.SandboxView;
import dev.bhatti.server.sandbox.SnapshotService;
import dev.bhatti.server.sandbox.SnapshotView;
import dev.bhatti.server.store.Store;
import dev.bhatti.server.store.StoreException;
import dev.bhatti.server.store.UserRecord;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.websocket.server.ServerWebSocketContainer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.core.JacksonException;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The REST API. Routing is a plain switch over method and path segments so the whole surface is
 * readable in one place. Every route but {@code /health} needs {@code Authorization: Bearer <key>}.
 */
public final class ApiHandler extends Handler.Abstract {
    private static final Logger log = LoggerFactory.getLogger(ApiHandler.class);
    public static final String VERSION = "0.1.0";
    static final int MAX_JSON_BODY = 1024 * 1024;
    static final int MAX_EXEC_OUTPUT = 10 * 1024 * 1024;
    static final String NDJSON = "application/x-ndjson";

    private final Store store;
    private final SandboxService sandboxes;
    private final Instant started = Instant.now();
    private final FilesRoute files;
    private final SessionsRoute sessions;
    private final Forwards forwards;
    private final PublishService publishes;
    private final WebShells webShells;
    private final ProxyBackends backends;
    private final SnapshotService snapshots;
    private final RateLimits rateLimits;
    private final SecretService secrets;
    private final Events events;

    public ApiHandler(Store store, SandboxService sandboxes, SnapshotService snapshots, SecretService secrets,
                      ServerWebSocketContainer websockets, Forwards forwards, RateLimits rateLimits, Events events,
                      PublishService publishes, ProxyBackends backends) {
        this.store = store;
        this.publishes = publishes;
        this.backends = backends;
        this.events = events;
        this.secrets = secrets;
        this.rateLimits = rateLimits;
        this.snapshots = snapshots;
        this.forwards = forwards;
        this.sandboxes = sandboxes;
        this.files = new FilesRoute(sandboxes);
        this.sessions = new SessionsRoute(sandboxes, websockets);
        this.webShells = new WebShells(store, sandboxes, websockets, rateLimits);
    }

    @Override
    public boolean handle(Request request, Response response, Callback callback) {
        response.getHeaders().put("X-Bhatti-Version", VERSION);
        try {
            Reply reply = route(request, response, callback);
            if (reply == Reply.STREAMED) return true;
            if (reply.existing) response.getHeaders().put("X-Bhatti-Existing", "true");
            send(request, response, callback, reply.status, reply.body);
        } catch (DomainException e) {
            var error = ErrorReplies.of(e);
            if (error.status() >= 500) {
                log.warn("{} {}: {} {}", request.getMethod(), Request.getPathInContext(request), error.status(), e.getMessage());
                events.record("request.failed", null, null, request.getMethod() + " " + Request.getPathInContext(request) + ": " + e.getMessage());
            }
            reply(request, response, callback, error);
        } catch (StoreException e) {
            log.warn("{} {}: {}", request.getMethod(), Request.getPathInContext(request), e.getMessage());
            reply(request, response, callback, ErrorReplies.of(e));
        } catch (org.eclipse.jetty.io.EofException e) {
            // the client ended its body before the length it announced (found by ApiFuzzTest): its error, not ours
            send(request, response, callback, 400, Map.of("error", "the request body ended early; send all of it"));
        } catch (RuntimeException | IOException e) {
            String id = "req_" + ApiKeys.randomHex(8);
            log.error("{} {} failed ({})", request.getMethod(), Request.getPathInContext(request), id, e);
            events.record("request.failed", null, null, request.getMethod() + " " + Request.getPathInContext(request) + ": internal error " + id);
            send(request, response, callback, 500, Map.of("error", "internal error", "request_id", id));
        }
        return true;
    }

    /** {@code PATCH /sandboxes/{id}}: what can change on a live sandbox. */
    record PatchBody(Boolean keepHot) {}

    /** {@code POST /sandboxes/{id}/start}: {@code force} boots from the disk when the snapshot is unusable. */
    record StartBody(boolean force) {}

    /** {@code POST /sandboxes/{id}/checkpoint} names the snapshot; {@code POST /snapshots/{name}/resume} the new sandbox. */
    record NameBody(String name) {}

    /** {@code POST /secrets}. */
    record SecretBody(String name, String value) {}

    private SandboxView view(dev.bhatti.server.store.SandboxRecord s) {
        return SandboxView.of(s, sandboxes.thermal(s), sandboxes.networkView(s));
    }

    private record Reply(int status, Object body, boolean existing) {
        /** The handler wrote the response itself (streaming) and completed the callback. */
        static final Reply STREAMED = new Reply(0, null, false);

        static Reply ok(Object body) { return new Reply(200, body, false); }
    }

    private Reply route(Request request, Response response, Callback callback) throws IOException {
        String method = request.getMethod();
        String path = Request.getPathInContext(request);
        if (path.startsWith(WebShells.PREFIX)) {
            // its own authentication: the token inside the WebSocket
            webShells.handle(request, response, callback, path);
            return Reply.STREAMED;
        }
        List<String> seg = ApiRoutes.segments(path);
        ApiRoutes.check(method, seg, Limits.printable(path));
        if (seg.equals(List.of("health"))) {
            return Reply.ok(Map.of("status", "ok", "uptime", Duration.between(started, Instant.now()).toSeconds() + "s",
                    "version", VERSION));
        }
        if (seg.equals(List.of("openapi.json"))) {
            response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json");
            response.write(true, ByteBuffer.wrap(OPENAPI), callback);
            return Reply.STREAMED;
        }
        UserRecord user = authenticate(request);
        throttle(user, method, "/" + String.join("/", seg));
        if (seg.size() == 1 && seg.get(0).equals("sandboxes")) {
            return switch (method) {
                case "GET" -> Reply.ok(sandboxes.list(user).stream().map(this::view).toList());
                case "POST" -> {
                    var req = readJson(request, SandboxService.CreateRequest.class);
                    var created = sandboxes.create(user, req);
                    if (!created.existing()) {
                        events.record("sandbox.create", user.name(), created.sandbox().name(),
                                created.sandbox().cpus() + " cpu, " + created.sandbox().memoryMb() + " MB, " + created.sandbox().image());
                    }
                    yield new Reply(created.existing() ? 200 : 201, view(created.sandbox()), created.existing());
                }
                default -> throw methodNotAllowed();
            };
        }
        if (seg.size() == 2 && seg.get(0).equals("sandboxes")) {
            String id = seg.get(1);
            return switch (method) {
                case "GET" -> {
                    var s = sandboxes.get(user, id);
                    yield Reply.ok(view(s).withDiskBytes(sandboxes.diskUsage(s)));
                }
                case "PATCH" -> {
                    var patch = readJson(request, PatchBody.class);
                    if (patch.keepHot() == null) throw DomainException.invalid("nothing to change; give keep_hot");
                    yield Reply.ok(view(sandboxes.keepHot(user, id, patch.keepHot())));
                }
                case "DELETE" -> {
                    var doomed = sandboxes.get(user, id);
                    forwards.close(doomed.id(), 0);
                    backends.close(doomed.id(), 0);
                    webShells.disconnect(doomed.id(), "the sandbox was destroyed");
                    boolean published = publishes.hasPublished(doomed);
                    sandboxes.destroy(user, id);
                    if (published) publishes.releaseCertificates(); // its names' certificates go now
                    events.record("sandbox.destroy", user.name(), doomed.name(), "");
                    yield Reply.ok(Map.of("status", "destroyed"));
                }
                default -> throw methodNotAllowed();
            };
        }
        if (seg.size() == 3 && seg.get(0).equals("sandboxes") && List.of("stop", "start", "pause", "resume").contains(seg.get(2))) {
            requireMethod(method, "POST");
            String id = seg.get(1);
            var s = switch (seg.get(2)) {
                case "stop" -> sandboxes.stop(user, id);
                case "start" -> sandboxes.start(user, id, readOptionalJson(request, StartBody.class).map(StartBody::force).orElse(false));
                case "pause" -> sandboxes.pause(user, id);
                default -> sandboxes.resume(user, id);
            };
            events.record("sandbox." + seg.get(2), user.name(), s.name(), "");
            return Reply.ok(view(s));
        }
        if (seg.size() == 3 && seg.get(0).equals("sandboxes") && seg.get(2).equals("checkpoint")) {
            requireMethod(method, "POST");
            var snap = snapshots.create(user, seg.get(1), readJson(request, NameBody.class).name());
            events.record("snapshot.create", user.name(), snap.sourceName(), "snapshot " + snap.name() + ", " + (snap.sizeBytes() >> 20) + " MB");
            return new Reply(201, SnapshotView.of(snap), false);
        }
        if (!seg.isEmpty() && seg.get(0).equals("secrets") && seg.size() <= 2) {
            return secret(user, seg, method, request);
        }
        if (!seg.isEmpty() && seg.get(0).equals("snapshots")) {
            return snapshot(user, seg, method, request);
        }
        if (seg.size() == 3 && seg.get(0).equals("sandboxes") && seg.get(2).equals("files")) {
            Object body = files.handle(user, seg.get(1), request, response, callback);
            return body == null ? Reply.STREAMED : Reply.ok(body);
        }
        if (seg.size() == 3 && seg.get(0).equals("sandboxes") && seg.get(2).equals("ws")) {
            requireMethod(method, "GET");
            sessions.shell(user, seg.get(1), request, response, callback);
            return Reply.STREAMED;
        }
        if (seg.size() == 4 && seg.get(0).equals("sandboxes") && seg.get(2).equals("exec") && seg.get(3).equals("ws")) {
            requireMethod(method, "GET");
            sessions.piped(user, seg.get(1), request, response, callback);
            return Reply.STREAMED;
        }
        if (seg.size() == 3 && seg.get(0).equals("sandboxes") && seg.get(2).equals("sessions")) {
            requireMethod(method, "GET");
            return Reply.ok(sessions.list(user, seg.get(1)));
        }
        if (seg.size() == 4 && seg.get(0).equals("sandboxes") && seg.get(2).equals("sessions")) {
            requireMethod(method, "DELETE");
            return Reply.ok(sessions.kill(user, seg.get(1), seg.get(3), request));
        }
        if (seg.size() == 3 && seg.get(0).equals("sandboxes") && seg.get(2).equals("shell-token")) {
            var s = sandboxes.get(user, seg.get(1));
            if (method.equals("DELETE")) {
                boolean had = webShells.revoke(s);
                if (had) events.record("sandbox.unshare", user.name(), s.name(), "");
                return new Reply(204, null, false);
            }
            String token = webShells.newToken(s);
            events.record("sandbox.share", user.name(), s.name(), "");
            // a link for others: over https under the API's public name when there is one (then "public")
            var publicUrl = publishes.apiUrl();
            String base = publicUrl.orElse(request.getHttpURI().getScheme() + "://" + request.getHttpURI().getAuthority());
            return Reply.ok(Map.of("token", token, "path", WebShells.PREFIX + s.id() + "#token=" + token,
                    "url", base + WebShells.PREFIX + s.id() + "#token=" + token, "public", publicUrl.isPresent()));
        }
        if (seg.size() >= 3 && seg.size() <= 4 && seg.get(0).equals("sandboxes") && seg.get(2).equals("publish")) {
            return publish(user, seg, method, request);
        }
        if (seg.size() >= 3 && seg.size() <= 4 && seg.get(0).equals("sandboxes") && seg.get(2).equals("forward")) {
            return forward(user, seg, method, request);
        }
        if (seg.size() == 3 && seg.get(0).equals("sandboxes") && seg.get(2).equals("exec")) {
            requireMethod(method, "POST");
            return exec(user, seg.get(1), readJson(request, ExecBody.class), request, response, callback);
        }
        throw new IllegalStateException("route " + method + " " + Limits.printable(path) + " is in ApiRoutes but not handled");
    }

    private Reply secret(UserRecord user, List<String> seg, String method, Request request) throws IOException {
        if (seg.size() == 1) {
            return switch (method) {
                case "GET" -> Reply.ok(secrets.list(user).stream().map(ApiHandler::secretView).toList());
                case "POST" -> {
                    var body = readJson(request, SecretBody.class);
                    boolean created = secrets.set(user, body.name(), body.value());
                    events.record("secret.set", user.name(), null, body.name());
                    yield new Reply(created ? 201 : 200, secretView(secrets.get(user, body.name())), false);
                }
                default -> throw methodNotAllowed();
            };
        }
        return switch (method) {
            case "GET" -> Reply.ok(secretView(secrets.get(user, seg.get(1))));
            case "DELETE" -> {
                secrets.delete(user, seg.get(1));
                events.record("secret.delete", user.name(), null, seg.get(1));
                yield Reply.ok(Map.of("status", "deleted"));
            }
            default -> throw methodNotAllowed();
        };
    }

    /** A secret as the API shows it: never its value. */
    private static Map<String, Object> secretView(dev.bhatti.server.store.SecretRecord s) {
        return Map.of("name", s.name(), "created_at", s.createdAt().toString(), "updated_at", s.updatedAt().toString());
    }

    private Reply snapshot(UserRecord user, List<String> seg, String method, Request request) throws IOException {
        if (seg.size() == 1) {
            requireMethod(method, "GET");
            return Reply.ok(snapshots.list(user).stream().map(SnapshotView::of).toList());
        }
        if (seg.size() == 2) {
            return switch (method) {
                case "GET" -> Reply.ok(SnapshotView.of(snapshots.get(user, seg.get(1))));
                case "DELETE" -> {
                    snapshots.delete(user, seg.get(1));
                    events.record("snapshot.delete", user.name(), null, "snapshot " + seg.get(1));
                    yield Reply.ok(Map.of("status", "deleted"));
                }
                default -> throw methodNotAllowed();
            };
        }
        if (seg.size() == 3 && seg.get(2).equals("resume")) {
            requireMethod(method, "POST");
            String name = readOptionalJson(request, NameBody.class).map(NameBody::name).orElse(null);
            var created = snapshots.resume(user, seg.get(1), name);
            events.record("snapshot.resume", user.name(), created.sandbox().name(), "from snapshot " + seg.get(1));
            return new Reply(201, view(created.sandbox()), false);
        }
        throw new IllegalStateException("route " + method + " /" + Limits.printable(String.join("/", seg)) + " is in ApiRoutes but not handled");
    }

    private Reply exec(UserRecord user, String id, ExecBody body, Request request, Response response, Callback callback) {
        ExecCommand command = execCommand(body);
        if (Boolean.TRUE.equals(body.detach())) {
            String output = body.outputFile() == null ? "/tmp/bhatti-exec-" + ApiKeys.randomHex(4) + ".log" : body.outputFile();
            if (!output.startsWith("/") || output.indexOf('\0') >= 0 || output.length() > 4096) {
                throw DomainException.invalid("output_file must be an absolute path");
            }
            Detached d = sandboxes.execDetached(user, id, command, output);
            return Reply.ok(Map.of("pid", d.pid(), "output_file", d.outputFile(), "detached", true));
        }
        if (body.outputFile() != null) throw DomainException.invalid("output_file needs detach: true");
        String accept = request.getHeaders().get(HttpHeader.ACCEPT);
        if (accept != null && accept.contains(NDJSON)) {
            try (var inUse = sandboxes.use(user, id)) { // woken and checked once: a 404 or 409 is still a plain JSON error
                new NdjsonExec(response, callback).run(out -> inUse.call(guest -> guest.exec(command, out)));
            }
            return Reply.STREAMED;
        }
        var output = new CappedOutput(MAX_EXEC_OUTPUT);
        ExecResult result = sandboxes.exec(user, id, command, output);
        var reply = new LinkedHashMap<String, Object>();
        reply.put("exit_code", result.exitCode());
        reply.put("stdout", output.stdout());
        reply.put("stderr", output.stderr());
        if (result.timedOut()) reply.put("timed_out", true);
        if (output.truncated()) reply.put("truncated", true);
        return Reply.ok(reply);
    }

    record PublishBody(Integer port, String alias) {}

    private Reply publish(UserRecord user, List<String> seg, String method, Request request) throws IOException {
        var s = sandboxes.get(user, seg.get(1));
        if (seg.size() == 4) {
            requireMethod(method, "DELETE");
            int port;
            try {
                port = Integer.parseInt(seg.get(3));
            } catch (NumberFormatException e) {
                throw DomainException.invalid("port must be a number");
            }
            publishes.unpublish(s, port);
            backends.close(s.id(), port);
            events.record("sandbox.unpublish", user.name(), s.name(), "port " + port);
            return new Reply(204, null, false);
        }
        return switch (method) {
            case "POST" -> {
                var body = readJson(request, PublishBody.class);
                var p = publishes.publish(user, s, body.port(), body.alias());
                if (!p.existing()) events.record("sandbox.publish", user.name(), s.name(), "port " + p.rule().port() + " as " + p.rule().alias());
                yield new Reply(p.existing() ? 200 : 201, publishView(p), p.existing());
            }
            case "GET" -> Reply.ok(publishes.list(s).stream().map(ApiHandler::publishView).toList());
            default -> throw methodNotAllowed();
        };
    }

    private static Map<String, Object> publishView(PublishService.Published p) {
        var m = new java.util.LinkedHashMap<String, Object>();
        m.put("id", p.rule().id());
        m.put("sandbox_id", p.rule().sandboxId());
        m.put("port", p.rule().port());
        m.put("alias", p.rule().alias());
        m.put("url", p.url().isEmpty() ? null : p.url());
        m.put("created_at", p.rule().createdAt().toString());
        if (p.certificate() != null) m.put("certificate", p.certificate());
        return m;
    }

    private Reply forward(UserRecord user, List<String> seg, String method, Request request) throws IOException {
        String sandboxId = sandboxes.get(user, seg.get(1)).id();
        if (seg.size() == 4) {
            requireMethod(method, "DELETE");
            int port;
            try {
                port = Integer.parseInt(seg.get(3));
            } catch (NumberFormatException e) {
                throw DomainException.invalid("host port must be a number");
            }
            int closed = forwards.close(sandboxId, port);
            if (closed == 0) throw DomainException.notFound("no forward on host port " + port);
            return Reply.ok(Map.of("closed", closed));
        }
        return switch (method) {
            case "POST" -> {
                var body = readJson(request, ForwardBody.class);
                if (body.guestPort() == null) throw DomainException.invalid("guest_port is required");
                sandboxes.awake(user, seg.get(1));
                var f = forwards.open(sandboxId, body.guestPort(), body.hostPort() == null ? 0 : body.hostPort());
                yield new Reply(201, forwardView(f), false);
            }
            case "GET" -> Reply.ok(forwards.list(sandboxId).stream().map(ApiHandler::forwardView).toList());
            case "DELETE" -> Reply.ok(Map.of("closed", forwards.close(sandboxId, 0)));
            default -> throw methodNotAllowed();
        };
    }

    private static Map<String, Object> forwardView(Forwards.Forward f) {
        return Map.of("guest_port", f.guestPort(), "host_port", f.hostPort(), "host_addr", "127.0.0.1:" + f.hostPort());
    }

    /** Validates an exec body into an engine command. */
    private static ExecCommand execCommand(ExecBody body) {
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

    /** Draws one token from the user's bucket for this kind of request, or answers 429. */
    private void throttle(UserRecord user, String method, String path) {
        var kind = RateLimits.classify(method, path);
        var decision = rateLimits.take(user.id(), kind);
        if (decision.allowed()) return;
        long seconds = decision.retryAfterSeconds();
        var limit = rateLimits.limit(kind);
        throw DomainException.rateLimited("rate limit exceeded for " + kind.name().toLowerCase(java.util.Locale.ROOT) + " requests ("
                + limit.burst() + " at once, " + limit.perMinute() + " a minute); retry in " + seconds + " s", seconds);
    }

    private UserRecord authenticate(Request request) {
        String header = request.getHeaders().get(HttpHeader.AUTHORIZATION);
        if (header == null || !header.startsWith("Bearer ") || header.length() <= 7) {
            throw DomainException.unauthorized("authorization required: send 'Authorization: Bearer <api key>'");
        }
        String hash = ApiKeys.hash(header.substring(7).strip());
        var user = store.userByKeyHash(hash)
                // the lookup is by hash (an index): the comparison below is the one that must not leak timing
                .filter(u -> java.security.MessageDigest.isEqual(u.apiKeyHash().getBytes(StandardCharsets.US_ASCII),
                        hash.getBytes(StandardCharsets.US_ASCII)));
        if (user.isEmpty()) {
            // guessing keys costs a token per try from the address; once they are gone the answer (and the
            // event log) stops growing until the bucket refills
            String from = Request.getRemoteAddr(request);
            var decision = rateLimits.take("address:" + from, RateLimits.Kind.AUTH_FAILURE);
            if (!decision.allowed()) {
                long seconds = decision.retryAfterSeconds();
                throw DomainException.rateLimited("too many failed authentications from " + from + "; retry in " + seconds + " s", seconds);
            }
            events.record("auth.failed", null, null, "invalid api key from " + from);
            throw DomainException.unauthorized("invalid api key");
        }
        return user.get();
    }

    private static <T> T readJson(Request request, Class<T> type) throws IOException {
        return readOptionalJson(request, type).orElseThrow(() -> DomainException.invalid("request body must be a JSON object"));
    }

    /** A JSON body that may be left out entirely (empty). */
    private static <T> java.util.Optional<T> readOptionalJson(Request request, Class<T> type) throws IOException {
        byte[] body;
        try (InputStream in = Content.Source.asInputStream(request)) {
            body = in.readNBytes(MAX_JSON_BODY + 1);
        }
        if (body.length > MAX_JSON_BODY) throw DomainException.tooLarge("request body larger than 1 MB");
        if (body.length == 0) return java.util.Optional.empty();
        try {
            T value = Json.MAPPER.readValue(body, type);
            if (value == null) throw DomainException.invalid("request body must be a JSON object");
            return java.util.Optional.of(value);
        } catch (JacksonException e) {
            throw DomainException.invalid(Json.problem(e));
        }
    }

    /** The API description, served as is. */
    private static final byte[] OPENAPI = openApi();

    private static byte[] openApi() {
        try (InputStream in = ApiHandler.class.getResourceAsStream("/openapi.json")) {
            if (in == null) throw new IllegalStateException("openapi.json is missing from the jar");
            return in.readAllBytes();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static void requireMethod(String method, String allowed) {
        if (!method.equals(allowed)) throw methodNotAllowed();
    }

    private static DomainException methodNotAllowed() { return DomainException.notAllowed("method not allowed"); }

    /**
     * Reads and drops what a route left of the request body (a refusal comes before reading it), up to
     * 1 MB, so that the connection stays usable. Otherwise Jetty drops the connection without a word when
     * the rest has not arrived yet, and a client that sends its next request on it gets a broken pipe.
     * A larger rest is not waited for: the reply says the connection closes.
     */
    private static void drainBody(Request request, Response response) {
        try (InputStream in = Content.Source.asInputStream(request)) {
            if (in.read() < 0) return; // nothing left, as for nearly every request
            byte[] buf = new byte[8192];
            long left = MAX_JSON_BODY - 1;
            for (int n; left > 0 && (n = in.read(buf, 0, (int) Math.min(buf.length, left))) > 0; ) left -= n;
            if (left > 0 || in.read() < 0) return; // the body ended within the bound
        } catch (IOException e) {
            // the client went away or broke off its body: the connection is done either way
        }
        response.getHeaders().put(HttpHeader.CONNECTION, "close");
    }

    private static void reply(Request request, Response response, Callback callback, ErrorReplies.ErrorReply error) {
        error.retryAfterSeconds().ifPresent(seconds -> response.getHeaders().put("Retry-After", Long.toString(seconds)));
        send(request, response, callback, error.status(), Map.of("error", error.message()));
    }

    private static void send(Request request, Response response, Callback callback, int status, Object body) {
        drainBody(request, response);
        if (status == 204) {
            response.setStatus(204);
            response.write(true, null, callback);
            return;
        }
        byte[] bytes = Json.MAPPER.writeValueAsBytes(body);
        response.setStatus(status);
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json");
        response.write(true, ByteBuffer.wrap(bytes), callback);
    }
}
