package dev.bhatti.cli;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * One HTTP exchange with the daemon. A plain {@code http://} URL, the usual case, goes through
 * {@link PlainHttp}; anything else (https) through the JDK's client, whose start-up (a default TLS
 * context that parses the trust store, a selector thread, some 400 classes) a local call does not need.
 */
interface HttpTransport {

    /** {@code body} or {@code stream} (sent chunked) or neither. Header names as written. */
    record Request(String method, URI uri, Map<String, String> headers, byte[] body, InputStream stream) {}

    /** Header names are lower-case. The caller closes the body. */
    record Response(int status, Map<String, String> headers, InputStream body) {
        Optional<String> header(String name) { return Optional.ofNullable(headers.get(name.toLowerCase(Locale.ROOT))); }
    }

    Response exchange(Request request) throws IOException, InterruptedException;

    /** {@code readTimeout} zero means none. */
    static HttpTransport forUrl(String url, Duration connectTimeout, Duration readTimeout) {
        return url.regionMatches(true, 0, "http://", 0, 7)
                ? new PlainHttp(connectTimeout, readTimeout)
                : new JdkHttp(connectTimeout, readTimeout);
    }
}
