package dev.bhatti.server.api;

import dev.bhatti.server.auth.ApiKeys;
import dev.bhatti.server.desktop.DesktopService;
import dev.bhatti.server.error.DomainException;
import dev.bhatti.server.events.Events;
import dev.bhatti.server.forward.Forwards;
import dev.bhatti.server.image.ImageService;
import dev.bhatti.server.metrics.Metrics;
import dev.bhatti.server.metrics.MetricsHistory;
import dev.bhatti.server.metrics.MetricsToken;
import dev.bhatti.server.volume.VolumeBackupService;
import dev.bhatti.server.volume.VolumeService;
import dev.bhatti.server.task.Tasks;
import dev.bhatti.server.publish.ProxyBackends;
import dev.bhatti.server.publish.PublishService;
import dev.bhatti.server.ratelimit.RateLimits;
import dev.bhatti.server.sandbox.SandboxService;
import dev.bhatti.server.sandbox.SnapshotService;
import dev.bhatti.server.secrets.SecretService;
import dev.bhatti.server.store.Store;
import dev.bhatti.server.store.StoreException;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.websocket.server.ServerWebSocketContainer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.eclipse.jetty.io.EofException;

/**
 * The REST API's edge: finds the request's route in the table ({@link ApiRoutes}, one class of routes
 * per resource), runs it behind {@link Authentication} unless it is public, and turns what it answers
 * or throws into the HTTP reply ({@link ErrorReplies} for refusals). Web shells authenticate themselves.
 * Every request is counted in the metrics by its route's template and, when refused, its status.
 */
public final class ApiHandler extends Handler.Abstract {
    private static final Logger log = LoggerFactory.getLogger(ApiHandler.class);
    public static final String VERSION = "0.1.0";

    private final ApiRoutes routes;
    private final WebShells webShells;
    private final Events events;
    private final Metrics metrics;

    public ApiHandler(Store store, SandboxService sandboxes, SnapshotService snapshots, SecretService secrets,
                      ServerWebSocketContainer websockets, Forwards forwards, RateLimits rateLimits, Events events,
                      PublishService publishes, ProxyBackends backends, ImageService images, Tasks tasks, VolumeService volumes,
                      VolumeBackupService backups, Metrics metrics, MetricsHistory metricsHistory, MetricsToken metricsToken) {
        this.events = events;
        this.metrics = metrics;
        var authentication = new Authentication(store, rateLimits, events);
        this.webShells = new WebShells(store, sandboxes, websockets, rateLimits);
        var sandboxRoutes = new SandboxRoutes(sandboxes, snapshots, events, forwards, backends, webShells, publishes);
        var table = new ArrayList<Route>();
        table.addAll(new MetaRoutes().routes());
        table.addAll(sandboxRoutes.routes());
        table.addAll(new ExecRoutes(sandboxes, metrics).routes());
        table.addAll(new SessionsRoute(sandboxes, websockets).routes());
        table.addAll(new FilesRoute(sandboxes).routes());
        table.addAll(new FileWatchRoute(sandboxes).routes());
        table.addAll(new ForwardRoutes(sandboxes, forwards).routes());
        table.addAll(new DesktopRoutes(new DesktopService(sandboxes)).routes());
        table.addAll(new ShellTokenRoutes(sandboxes, webShells, publishes, events).routes());
        table.addAll(new PublishRoutes(sandboxes, publishes, backends, events).routes());
        table.addAll(new SnapshotRoutes(snapshots, events, sandboxRoutes).routes());
        table.addAll(new SecretRoutes(secrets, events).routes());
        table.addAll(new TemplateRoutes(sandboxes.templates(), events).routes());
        table.addAll(new ImageRoutes(images, sandboxes, store, events).routes());
        table.addAll(new TaskRoutes(tasks).routes());
        table.addAll(new VolumeRoutes(volumes, backups, events).routes());
        table.addAll(new MetricsRoutes(metrics, metricsHistory, metricsToken, authentication).routes());
        // keyed routes are wrapped once, here: a request pays only for the lookup
        this.routes = new ApiRoutes(table.stream().map(r -> r.keyed() ? r.with(authentication.around(r)) : r).toList());
    }

    /** Every route of the API (a test holds it equal to the OpenAPI document). */
    public List<Route> routes() { return routes.routes(); }

    @Override
    public boolean handle(Request request, Response response, Callback callback) {
        response.getHeaders().put("X-Bhatti-Version", VERSION);
        var counted = new Counted();
        try {
            Reply reply = route(request, response, callback, counted);
            if (reply == Reply.STREAMED) {
                counted.status = response.getStatus();
                return true;
            }
            if (reply.existing()) response.getHeaders().put("X-Bhatti-Existing", "true");
            counted.status = reply.status();
            send(request, response, callback, reply.status(), reply.body());
        } catch (DomainException e) {
            var error = ErrorReplies.of(e);
            counted.status = error.status();
            if (error.status() >= 500) {
                log.warn("{} {}: {} {}", request.getMethod(), Request.getPathInContext(request), error.status(), e.getMessage());
                events.record("request.failed", null, null, request.getMethod() + " " + Request.getPathInContext(request) + ": " + e.getMessage());
            }
            reply(request, response, callback, error);
        } catch (StoreException e) {
            log.warn("{} {}: {}", request.getMethod(), Request.getPathInContext(request), e.getMessage());
            counted.status = 503;
            reply(request, response, callback, ErrorReplies.of(e));
        } catch (EofException e) {
            // the client ended its body before the length it announced (found by ApiFuzzTest): its error, not ours
            counted.status = 400;
            send(request, response, callback, 400, Map.of("error", "the request body ended early; send all of it"));
        } catch (RuntimeException | IOException e) {
            String id = "req_" + ApiKeys.randomHex(8);
            log.error("{} {} failed ({})", request.getMethod(), Request.getPathInContext(request), id, e);
            events.record("request.failed", null, null, request.getMethod() + " " + Request.getPathInContext(request) + ": internal error " + id);
            counted.status = 500;
            send(request, response, callback, 500, Map.of("error", "internal error", "request_id", id));
        } finally {
            metrics.request(request.getMethod(), counted.route, counted.status);
        }
        return true;
    }

    /** What a request is counted as: its route's template (a path matching none is "unmatched") and its status. */
    private static final class Counted {
        String route = "unmatched";
        int status = 500;
    }

    private Reply route(Request request, Response response, Callback callback, Counted counted) throws IOException {
        String path = Request.getPathInContext(request);
        if (path.startsWith(WebShells.PREFIX)) {
            // its own authentication: the token inside the WebSocket
            counted.route = WebShells.PREFIX;
            webShells.handle(request, response, callback, path);
            return Reply.STREAMED;
        }
        var match = routes.find(request.getMethod(), path);
        counted.route = match.route().template();
        return match.route().endpoint().handle(new Call(request, response, callback, null, match.params()));
    }

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
            long left = Call.MAX_JSON_BODY - 1;
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
