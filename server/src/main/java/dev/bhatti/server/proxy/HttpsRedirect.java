package dev.bhatti.server.proxy;

import dev.bhatti.server.tls.AcmeChallenges;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.function.IntSupplier;

/**
 * The plain-HTTP side of a TLS proxy: answers ACME http-01 challenges, and sends everything else for
 * our domain (and the API's host name, if it is served here) to the same URL over https with 308 (the
 * method and body are kept, unlike 301). Secure requests pass on to the next handler.
 */
public final class HttpsRedirect extends Handler.Abstract {
    private final String domain;
    private final String apiHost;
    private final IntSupplier httpsPort;
    private final AcmeChallenges challenges;

    /** {@code httpsPort}: the port in the https URLs, known once the listener is up; {@code apiHost} may be null. */
    public HttpsRedirect(String domain, String apiHost, IntSupplier httpsPort, AcmeChallenges challenges) {
        this.domain = domain.toLowerCase(Locale.ROOT);
        this.apiHost = apiHost;
        this.httpsPort = httpsPort;
        this.challenges = challenges;
    }

    @Override
    public boolean handle(Request request, Response response, Callback callback) {
        if (request.isSecure()) return false;
        var answer = challenges.answer(request.getHttpURI().getPath());
        if (answer.isPresent()) {
            response.getHeaders().put(HttpHeader.CONTENT_TYPE, "text/plain");
            response.write(true, ByteBuffer.wrap(answer.get().getBytes(StandardCharsets.US_ASCII)), callback);
            return true;
        }
        String host = PublicProxy.normalizedHost(Request.getServerName(request)); // "name." is "name"
        if (!host.equals(domain) && !host.endsWith("." + domain) && !host.equals(apiHost)) {
            Response.writeError(request, response, callback, 404, "nothing is published at " + host);
            return true;
        }
        String location = "https://" + host + (httpsPort.getAsInt() == 443 ? "" : ":" + httpsPort.getAsInt()) + request.getHttpURI().getPathQuery();
        response.setStatus(308);
        response.getHeaders().put(HttpHeader.LOCATION, location);
        response.getHeaders().put(HttpHeader.CONTENT_LENGTH, 0);
        callback.succeeded();
        return true;
    }
}
