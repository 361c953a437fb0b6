package dev.bhatti.server.proxy;

import dev.bhatti.server.publish.PublishService;
import dev.bhatti.server.publish.ProxyBackends;
import dev.bhatti.server.error.DomainException;
import dev.bhatti.server.store.PublishRecord;
import org.eclipse.jetty.client.HttpClient;
import org.eclipse.jetty.http.HttpURI;
import org.eclipse.jetty.proxy.ProxyHandler;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.websocket.server.ServerWebSocketContainer;

import java.util.Locale;
import java.util.Optional;

/**
 * The public face of published ports: routes each request by its Host header, {@code <alias>.<domain>},
 * to the published guest port, waking the sandbox if it is warm or cold, and streams both bodies.
 * Unknown hosts and aliases answer 404 before anything else happens; only published (sandbox, port)
 * pairs are reachable, whatever the Host header says. Unauthenticated, like any public URL. WebSocket
 * upgrades are relayed to the guest's server ({@link WebSocketRelay}); everything else is plain HTTP.
 */
public final class PublicProxy extends Handler.Wrapper implements AutoCloseable {
    private static final String BACKEND = PublicProxy.class.getName() + ".backend";
    /** Idle connections to a guest are dropped after this, so they do not keep it from cooling. */
    static final long BACKEND_IDLE_MS = 15_000;

    private final String domain;
    private final PublishService publishes;
    private final ProxyBackends backends;
    private final ServerWebSocketContainer websockets;
    private final WebSocketRelay relay;

    public PublicProxy(String domain, PublishService publishes, ProxyBackends backends, ServerWebSocketContainer websockets) throws Exception {
        this.domain = domain.toLowerCase(Locale.ROOT);
        this.publishes = publishes;
        this.backends = backends;
        this.websockets = websockets;
        WebSocketRelay.configure(websockets);
        this.relay = new WebSocketRelay();
        var reverse = new ProxyHandler.Reverse(r -> HttpURI.build(r.getHttpURI()).scheme("http").host("127.0.0.1")
                .port((Integer) r.getAttribute(BACKEND)));
        var client = new HttpClient();
        client.setIdleTimeout(BACKEND_IDLE_MS);
        client.setConnectTimeout(5_000);
        client.setFollowRedirects(false);
        client.setMaxConnectionsPerDestination(256);
        reverse.setHttpClient(client);
        setHandler(reverse);
    }

    /** A Host as a name to compare: lower case, without the root's trailing dot. */
    public static String normalizedHost(String host) {
        String h = host.toLowerCase(Locale.ROOT);
        return h.endsWith(".") ? h.substring(0, h.length() - 1) : h;
    }

    /** The alias a Host names, if it is one of ours. */
    Optional<String> alias(String host) {
        if (host == null) return Optional.empty();
        String h = normalizedHost(host);
        if (!h.endsWith("." + domain)) return Optional.empty();
        String alias = h.substring(0, h.length() - domain.length() - 1);
        return alias.isEmpty() || alias.contains(".") ? Optional.empty() : Optional.of(alias);
    }

    @Override
    public boolean handle(Request request, Response response, Callback callback) throws Exception {
        String host = Request.getServerName(request);
        Optional<PublishRecord> rule = alias(host).flatMap(publishes::route);
        if (rule.isEmpty()) {
            Response.writeError(request, response, callback, 404, "nothing is published at " + host);
            return true;
        }
        int port;
        try {
            port = backends.port(rule.get().sandboxId(), rule.get().port());
        } catch (DomainException e) {
            Response.writeError(request, response, callback, 502, "the sandbox cannot be reached: " + e.getMessage());
            return true;
        }
        if (WebSocketRelay.isUpgrade(request) && relay.relay(websockets, request, response, callback, port)) return true;
        request.setAttribute(BACKEND, port);
        return super.handle(request, response, callback);
    }

    @Override
    public void close() { relay.close(); }
}
