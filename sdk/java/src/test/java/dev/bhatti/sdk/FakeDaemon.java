package dev.bhatti.sdk;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * A stand-in for the daemon's HTTP side in unit tests (the JDK's small server): canned answers by
 * "METHOD /path", and the last request of each kept for the test to look at. Not a VM path: the
 * ITs run the SDK against the real daemon.
 */
final class FakeDaemon implements AutoCloseable {

    /** An answer: status, headers, body. */
    record Answer(int status, Map<String, String> headers, byte[] body) {
        static Answer json(int status, String json) { return new Answer(status, Map.of("Content-Type", "application/json"), json.getBytes(StandardCharsets.UTF_8)); }
    }

    /** What came: the headers that matter and the body. */
    record Seen(String query, String authorization, String contentType, String accept, String body) {}

    @FunctionalInterface
    interface Handler {
        Answer handle(HttpExchange exchange) throws Exception;
    }

    private final HttpServer server;
    private final ExecutorService threads = Executors.newCachedThreadPool();
    private final Map<String, Handler> routes = new ConcurrentHashMap<>();
    final Map<String, Seen> seen = new ConcurrentHashMap<>();

    FakeDaemon() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.setExecutor(threads);
        server.createContext("/", this::serve);
        server.start();
    }

    String url() { return "http://127.0.0.1:" + server.getAddress().getPort(); }

    FakeDaemon on(String methodAndPath, Handler handler) {
        routes.put(methodAndPath, handler);
        return this;
    }

    FakeDaemon on(String methodAndPath, int status, String json) { return on(methodAndPath, x -> Answer.json(status, json)); }

    private void serve(HttpExchange x) throws IOException {
        String key = x.getRequestMethod() + " " + x.getRequestURI().getPath();
        byte[] body = x.getRequestBody().readAllBytes();
        seen.put(key, new Seen(x.getRequestURI().getRawQuery(), x.getRequestHeaders().getFirst("Authorization"),
                x.getRequestHeaders().getFirst("Content-Type"), x.getRequestHeaders().getFirst("Accept"), new String(body, StandardCharsets.UTF_8)));
        Handler h = routes.get(key);
        Answer a;
        try {
            a = h == null ? Answer.json(404, "{\"error\":\"no route " + key + "\"}") : h.handle(x);
        } catch (Exception e) {
            a = Answer.json(500, "{\"error\":\"" + e + "\"}");
        }
        a.headers().forEach((k, v) -> x.getResponseHeaders().add(k, v));
        boolean empty = a.body().length == 0 || x.getRequestMethod().equals("HEAD");
        x.sendResponseHeaders(a.status(), empty ? -1 : a.body().length);
        if (!empty) x.getResponseBody().write(a.body());
        x.close();
    }

    @Override
    public void close() {
        server.stop(0);
        threads.shutdownNow();
    }
}
