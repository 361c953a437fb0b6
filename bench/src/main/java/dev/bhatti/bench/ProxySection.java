package dev.bhatti.bench;

import java.io.IOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * A published port through the public proxy (GET / of busybox httpd in the shared sandbox, a new TCP
 * connection each time) while the sandbox is hot, warm (paused) and cold (stopped). Floor: the same GET
 * through a port forward of the hot sandbox. Runs last among the sandbox sections: it pauses and stops the
 * shared sandbox.
 */
final class ProxySection implements Section {
    static final String SECTION = "proxy";
    static final String FORWARD = "GET via forward, hot";

    @Override public String title() { return "proxied request to a published port: hot, warm, cold"; }

    @Override
    public void run(Context ctx) throws Exception {
        Options o = ctx.opt();
        if (o.proxyPort <= 0) {
            ctx.results().note("proxy skipped: no --proxy-port");
            return;
        }
        Results r = ctx.results();
        Api api = ctx.api();
        String id = ctx.mainId;
        api.execOk(id, List.of("sh", "-c",
                "mkdir -p /tmp/w && echo ok > /tmp/w/index.html && busybox httpd -p 3000 -h /tmp/w"));
        String alias = ctx.mainName.replaceAll("[^a-z0-9-]", "-");
        api.ok("POST", "/sandboxes/" + id + "/publish", "{\"port\":3000,\"alias\":\"" + alias + "\"}");
        int forwardPort = api.ok("POST", "/sandboxes/" + id + "/forward", "{\"guest_port\":3000,\"host_port\":0}")
                .json().path("host_port").asInt();
        String host = alias + "." + o.proxyDomain;
        Samples fwd = r.add(SECTION, FORWARD, null);
        Samples hot = r.add(SECTION, "GET via proxy, hot", FORWARD);
        Samples warm = r.add(SECTION, "GET via proxy, warm (paused)", FORWARD);
        Samples cold = r.add(SECTION, "GET via proxy, cold (stopped)", FORWARD);
        for (int i = 0; i < 3; i++) {
            get(forwardPort, "localhost");
            get(o.proxyPort, host);
        }
        for (int i = 0; i < o.nProxy; i++) {
            fwd.add(get(forwardPort, "localhost"));
            hot.add(get(o.proxyPort, host));
        }
        for (int i = 0; i < Math.max(1, o.nCold); i++) {
            api.post(id, "pause");
            warm.add(get(o.proxyPort, host));
            api.post(id, "stop");
            cold.add(get(o.proxyPort, host));
        }
        r.print(SECTION);
    }

    /** One HTTP/1.1 GET / on a new connection; returns its duration, or throws unless 200. */
    static long get(int port, String host) throws IOException {
        long t0 = System.nanoTime();
        try (var s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(120_000);
            s.getOutputStream().write(("GET / HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            String reply = new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
            if (!reply.startsWith("HTTP/1.1 200") && !reply.startsWith("HTTP/1.0 200")) {
                throw new BenchFailure("GET via port " + port + " (Host " + host + "): " + reply.lines().findFirst().orElse("no answer"));
            }
        }
        return System.nanoTime() - t0;
    }
}
