package dev.bhatti.server.proxy;

import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;

import java.util.Locale;

/**
 * On the proxy's TLS listener, requests for {@code proxy.tls.api_host} go to the API (its own handler,
 * WebSockets and the shared web shell included); all others go on to the public proxy. The handler
 * belongs to the API's server, which starts and stops it: it is only called from here, never adopted.
 * (TLS already made sure the Host matches the name the connection was opened for.)
 */
final class ApiHostRoute extends Handler.Abstract {
    private final String apiHost;
    private final Handler api;

    ApiHostRoute(String apiHost, Handler api) {
        this.apiHost = apiHost.toLowerCase(Locale.ROOT);
        this.api = api;
    }

    @Override
    public boolean handle(Request request, Response response, Callback callback) throws Exception {
        if (!request.isSecure() || !PublicProxy.normalizedHost(Request.getServerName(request)).equals(apiHost)) return false;
        return api.handle(request, response, callback);
    }
}
