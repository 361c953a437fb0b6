package dev.bhatti.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;
import tools.jackson.databind.JsonNode;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * File watching on a real guest: events of changes made by commands in the guest reach an API client in
 * order, new subdirectories are followed, the limits hold (missing path 404, 8 watches per sandbox), a
 * client that stops reading is dropped while another watch goes on, and a watch whose client went leaves
 * no inotify instance behind in the guest. Prints the latency from a write to its event at the client.
 */
@ExtendWith(DaemonLogOnFailure.class)
class FileWatchIT {

    @RegisterExtension
    static final DaemonUnderTest bhatti = new DaemonUnderTest("bhatti-watch-");

    static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

    /** An event and when this test read it. */
    record Seen(JsonNode event, long atNanos) {
        String type() { return event.path("type").asString(""); }
        String path() { return event.path("path").asString(""); }
    }

    /** One watch over HTTP whose events a reader thread collects. */
    static final class Watch implements AutoCloseable {
        final List<Seen> seen = new CopyOnWriteArrayList<>();
        final InputStream body;
        volatile boolean ended;

        Watch(String path) throws Exception {
            var r = HTTP.send(request(path), HttpResponse.BodyHandlers.ofInputStream());
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.headers().firstValue("Content-Type").orElse("")).startsWith("application/x-ndjson");
            body = r.body();
            Thread.ofVirtual().start(() -> {
                try (var reader = new BufferedReader(new InputStreamReader(body, StandardCharsets.UTF_8))) {
                    String line;
                    while ((line = reader.readLine()) != null) {
                        if (!line.isBlank()) seen.add(new Seen(DaemonUnderTest.json(line), System.nanoTime()));
                    }
                } catch (IOException e) {
                    // closed by the test
                } finally {
                    ended = true;
                }
            });
        }

        Seen await(Predicate<Seen> what) {
            return org.awaitility.Awaitility.await().atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofMillis(5))
                    .until(() -> seen.stream().filter(what).findFirst().orElse(null), s -> s != null);
        }

        int indexOf(String type, String path) {
            for (int i = 0; i < seen.size(); i++) if (seen.get(i).type().equals(type) && seen.get(i).path().equals(path)) return i;
            return -1;
        }

        @Override
        public void close() throws IOException { body.close(); }
    }

    static HttpRequest request(String path) throws Exception {
        return HttpRequest.newBuilder(URI.create(bhatti.daemon().url() + "/sandboxes/w/files/watch?path=" + path))
                .header("Authorization", "Bearer " + bhatti.daemon().apiKey()).timeout(Duration.ofMinutes(10)).GET().build();
    }

    static Predicate<Seen> is(String type, String path) { return s -> s.type().equals(type) && s.path().equals(path); }

    /** inotify instances open in the guest, all processes together (the agent's watches are the only ones). */
    static int guestInotifyInstances() throws Exception {
        String out = bhatti.ok("exec", "--user", "root", "w", "--", "sh", "-c",
                "ls -l /proc/[0-9]*/fd/ 2>/dev/null | grep -c 'anon_inode:inotify' || true").stdout();
        return Integer.parseInt(out.strip());
    }

    @Test
    void watchesAGuestDirectoryEndToEnd() throws Exception {
        bhatti.ok("create", "--name", "w", "--cpus", "1", "--memory", "512");
        int baseline = guestInotifyInstances();

        var missing = HTTP.send(request("/workspace/no-such-dir"), HttpResponse.BodyHandlers.ofString());
        assertThat(missing.statusCode()).as(missing.body()).isEqualTo(404);

        try (var watch = new Watch("/workspace")) {
            assertThat(guestInotifyInstances()).isEqualTo(baseline + 1);

            // a create, a modify and a delete by a command in the guest, in order
            bhatti.exec("w", "sh", "-c", "echo a > /workspace/f.txt; sleep 0.5; echo b >> /workspace/f.txt; sleep 0.5; rm /workspace/f.txt");
            watch.await(is("deleted", "/workspace/f.txt"));
            int created = watch.indexOf("created", "/workspace/f.txt");
            int modified = -1;
            for (int i = created + 1; i < watch.seen.size(); i++) if (is("modified", "/workspace/f.txt").test(watch.seen.get(i))) modified = i;
            assertThat(created).isNotNegative();
            assertThat(modified).isGreaterThan(created);
            assertThat(watch.indexOf("deleted", "/workspace/f.txt")).isGreaterThan(modified);

            // a new subdirectory and a file in it, and one made later through the new directory's watch
            bhatti.exec("w", "sh", "-c", "mkdir -p /workspace/d/e && echo x > /workspace/d/e/in.txt");
            watch.await(is("created", "/workspace/d/e/in.txt"));
            assertThat(watch.await(is("created", "/workspace/d")).event().path("is_dir").asBoolean()).isTrue();
            bhatti.exec("w", "sh", "-c", "echo y > /workspace/d/e/late.txt");
            watch.await(is("created", "/workspace/d/e/late.txt"));

            // eight watches per sandbox: the ninth is refused with a clear message
            var more = new ArrayList<Watch>();
            for (int i = 0; i < 7; i++) more.add(new Watch("/workspace"));
            var ninth = HTTP.send(request("/workspace"), HttpResponse.BodyHandlers.ofString());
            assertThat(ninth.statusCode()).as(ninth.body()).isEqualTo(429);
            assertThat(ninth.body()).contains("already has 8 file watches");
            for (Watch m : more) m.close();
            long closed = System.nanoTime();
            await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofSeconds(1)).until(() -> guestInotifyInstances() == baseline + 1);
            System.out.println("[watch] 7 closed clients -> their guest watches gone in " + (System.nanoTime() - closed) / 1_000_000 + " ms");

            // a client that stops reading is dropped in the guest; the reading watch goes on
            try (var stalled = stalledClient()) {
                await().atMost(Duration.ofMinutes(1)).pollInterval(Duration.ofSeconds(1)).until(() -> guestInotifyInstances() == baseline + 2);
                long t0 = System.nanoTime();
                int batch = 0;
                while (guestInotifyInstances() != baseline + 1) {
                    assertThat(System.nanoTime() - t0).as("the stalled watch was never dropped").isLessThan(TimeUnit.MINUTES.toNanos(8));
                    batch++;
                    bhatti.exec("w", "sh", "-c", "mkdir -p /workspace/many" + batch + " && cd /workspace/many" + batch
                            + " && seq 1 20000 | sed \"s/^/$(printf 'x%.0s' $(seq 1 200))/\" | xargs touch");
                }
                System.out.println("[watch] stalled client dropped after " + batch + " x 20000 files, "
                        + (System.nanoTime() - t0) / 1_000_000 + " ms");
                bhatti.exec("w", "touch", "/workspace/after-drop");
                watch.await(is("created", "/workspace/after-drop"));
            }

            // latency: a write in the guest (an upload through the API) to its event at this client
            var latencies = new ArrayList<Long>();
            for (int i = 0; i < 20; i++) {
                String p = "/workspace/lat-" + i;
                long t0 = System.nanoTime();
                var put = bhatti.daemon().call("PUT", "/sandboxes/w/files?path=" + p, "x");
                assertThat(put.statusCode()).isEqualTo(200);
                latencies.add((watch.await(is("moved_to", p)).atNanos() - t0) / 1_000);
            }
            latencies.sort(null);
            System.out.printf("[watch] upload -> event at the client over 20 writes: p50 %.1f ms, p95 %.1f ms, max %.1f ms%n",
                    latencies.get(9) / 1000.0, latencies.get(18) / 1000.0, latencies.get(19) / 1000.0);
            var direct = new ArrayList<Long>();
            for (int i = 0; i < 20; i++) {
                String p = "/workspace/ex-" + i;
                long t0 = System.nanoTime();
                bhatti.daemon().call("POST", "/sandboxes/w/exec", "{\"cmd\":[\"touch\",\"" + p + "\"]}");
                direct.add((watch.await(is("created", p)).atNanos() - t0) / 1_000);
            }
            direct.sort(null);
            System.out.printf("[watch] exec touch -> event at the client over 20 writes: p50 %.1f ms, p95 %.1f ms%n",
                    direct.get(9) / 1000.0, direct.get(18) / 1000.0);
        }
        long closed = System.nanoTime();
        await().atMost(Duration.ofMinutes(1)).pollInterval(Duration.ofSeconds(1)).until(() -> guestInotifyInstances() == baseline);
        System.out.println("[watch] closed client -> guest watch gone in " + (System.nanoTime() - closed) / 1_000_000 + " ms");

        // the CLI: NDJSON with --json, human lines without; -n ends it
        bhatti.exec("w", "mkdir", "-p", "/workspace/cli");
        assertThat(cliWatch("j").strip()).matches("\\{\"type\":\"created\",\"path\":\"/workspace/cli/j\\d+\",\"is_dir\":false,\"time\":\"[^\"]+\"}");
        assertThat(cliWatch("h").strip()).matches("\\d\\d:\\d\\d:\\d\\d\\.\\d{3}  created +/workspace/cli/h\\d+");
        var gone = bhatti.cli("file", "watch", "w", "/workspace/nothing-here");
        assertThat(gone.exit()).isNotZero();
        assertThat(gone.stderr()).contains("no such file or directory");
    }

    /** `bhatti file watch -n 1` (with --json for prefix j) while files are made until it has seen one; its stdout. */
    static String cliWatch(String prefix) throws Exception {
        var args = new ArrayList<>(List.of("file", "watch", "w", "/workspace/cli", "-n", "1", "--timeout", "120"));
        if (prefix.equals("j")) args.add("--json");
        CompletableFuture<BhattiProcess.Result> run = CompletableFuture.supplyAsync(() -> {
            try {
                return bhatti.cli(args.toArray(String[]::new));
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
        for (int i = 0; !run.isDone() && i < 120; i++) {
            bhatti.exec("w", "touch", "/workspace/cli/" + prefix + i);
            try {
                run.get(1, TimeUnit.SECONDS);
            } catch (java.util.concurrent.TimeoutException notYet) {
                // the watch may not have been in place for that one
            }
        }
        var r = run.get(2, TimeUnit.MINUTES);
        assertThat(r.exit()).as(r.toString()).isZero();
        return r.stdout();
    }

    /** A watch whose client reads the response's head and then nothing, with a small receive buffer. */
    static Socket stalledClient() throws Exception {
        var url = URI.create(bhatti.daemon().url());
        var s = new Socket();
        s.setReceiveBufferSize(4096);
        s.connect(new InetSocketAddress(url.getHost(), url.getPort()), 10_000);
        OutputStream out = s.getOutputStream();
        out.write(("GET /sandboxes/w/files/watch?path=/workspace HTTP/1.1\r\nHost: " + url.getHost() + "\r\nAuthorization: Bearer "
                + bhatti.daemon().apiKey() + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        out.flush();
        byte[] head = new byte[12];
        assertThat(s.getInputStream().readNBytes(head, 0, 12)).isEqualTo(12);
        assertThat(new String(head, StandardCharsets.US_ASCII)).isEqualTo("HTTP/1.1 200");
        return s;
    }
}
