// Latency benchmark for a running bhatti daemon. JDK only; run with the single-file source launcher:
//   java Bench.java --url http://127.0.0.1:PORT --token KEY --cli /path/to/bin/bhatti [options]
// Normally started by bench/run.sh, which also starts and stops the daemon. See bench/README.md.
//
// Timings are reported, never asserted. Exit status: 0 = all calls functionally succeeded,
// 1 = something failed (non-2xx, exec exit code != 0, CLI exit code != 0), 2 = bad usage.

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

public class Bench {
    // ---- options ----
    static String url, token, cli;
    static int nCreate = 5, nHttp = 200, warmHttp = 10, nCli = 20, warmCli = 2;
    static int cpus = 1, memoryMb = 512;
    static int nPause = 20, nCold = 5;
    static int loadClients = 50, loadSeconds = 10;
    static List<Integer> thermalMemory = List.of(256, 1024);
    static Path daemonLog;
    static int proxyPort = 0, nProxy = 50;
    static String proxyDomain = "bench.test";
    static String prefix = "bench-" + Long.toHexString(System.nanoTime() & 0xffffff);

    static final HttpClient http = HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)      // plain keep-alive HTTP/1.1, no h2c upgrade dance
            .connectTimeout(Duration.ofSeconds(5))
            .build();
    static final Map<String, Stats> results = new LinkedHashMap<>();
    static int failures = 0; // the run stops at the first functional failure, so this is 0 or 1

    public static void main(String[] args) throws Exception {
        parseArgs(args);
        Runtime.getRuntime().addShutdownHook(new Thread(Bench::destroyAll)); // Ctrl-C / SIGTERM

        printHeader();
        try {
            benchCreate();
            benchWarm();
            for (int mb : thermalMemory) benchThermal(mb);
            if (proxyPort > 0) benchProxy();
            if (loadSeconds > 0) benchThroughput();
        } catch (Exception e) {
            failures++;
            System.out.println("\nERROR: " + e.getMessage());
        } finally {
            destroyAll();
        }
        printSummary();
        System.out.printf(Locale.ROOT, "%nload average at end: %s%n", loadAvg());
        System.out.println(failures == 0 ? "result: OK (no functional failures)"
                                         : "result: FAILED (" + failures + " functional failure(s))");
        System.out.flush();
        Runtime.getRuntime().halt(failures == 0 ? 0 : 1); // skip the hook: already cleaned up
    }

    // ---- 1. create-to-first-exec ----
    static void benchCreate() throws Exception {
        System.out.printf("%n== 1. create-to-first-exec (N=%d, %d vCPU, %d MiB; create -> exec true -> destroy) ==%n",
                nCreate, cpus, memoryMb);
        var post = new Stats("POST /sandboxes (create)");
        var firstExec = new Stats("create-to-first-exec");
        var del = new Stats("DELETE /sandboxes/{id}");
        for (int i = 0; i < nCreate; i++) {
            String name = prefix + "-c" + i;
            long t0 = System.nanoTime();
            String id = create(name);
            long t1 = System.nanoTime();
            int attempts = 0;
            while (true) {
                attempts++;
                var r = exec(id, 30);
                if (r.status == 200 && exitCode(r.body) == 0) break;
                if (System.nanoTime() - t0 > TimeUnit.SECONDS.toNanos(180)) {
                    throw new IllegalStateException("first exec on " + name + " never succeeded: " + r.status + " " + r.body);
                }
                Thread.sleep(20);
            }
            long t2 = System.nanoTime();
            post.add(t1 - t0);
            firstExec.add(t2 - t0);
            long t3 = System.nanoTime();
            destroy(id);
            del.add(System.nanoTime() - t3);
            System.out.printf(Locale.ROOT, "  #%d  create %8.1f ms   first exec after %8.1f ms   (exec attempts: %d)%n",
                    i + 1, ms(t1 - t0), ms(t2 - t0), attempts);
        }
        put(post);
        put(firstExec);
        put(del);
        print(post, firstExec, del);
    }

    // ---- 2 + 3. warm sandbox: HTTP exec vs /health, CLI exec vs --version ----
    static void benchWarm() throws Exception {
        String name = prefix + "-warm";
        String id = create(name);
        var info = request("GET", "/sandboxes/" + id, null, true);
        System.out.printf("%nwarm sandbox %s (id %s), accelerator: %s%n", name, id, field(info.body, "accelerator"));

        System.out.printf("%n== 2. exec round trip via HTTP (N=%d after %d warm-up; interleaved health, exec, ...) ==%n",
                nHttp, warmHttp);
        var health = new Stats("GET /health");
        var execHttp = new Stats("POST /sandboxes/{id}/exec true");
        for (int i = 0; i < warmHttp; i++) {
            health();
            execOk(id);
        }
        for (int i = 0; i < nHttp; i++) {
            long t0 = System.nanoTime();
            health();
            long t1 = System.nanoTime();
            execOk(id);
            long t2 = System.nanoTime();
            health.add(t1 - t0);
            execHttp.add(t2 - t1);
        }
        put(health);
        put(execHttp);
        print(health, execHttp);

        System.out.printf("%n== 3. exec round trip via the CLI subprocess (N=%d after %d warm-up; interleaved --version, exec, ...) ==%n",
                nCli, warmCli);
        var version = new Stats("bhatti --version");
        var execCli = new Stats("bhatti exec NAME -- true");
        for (int i = 0; i < warmCli; i++) {
            runCli("--version");
            runCli("exec", name, "--", "true");
        }
        for (int i = 0; i < nCli; i++) {
            version.add(runCli("--version"));
            execCli.add(runCli("exec", name, "--", "true"));
        }
        put(version);
        put(execCli);
        print(version, execCli);
    }

    // ---- 4. thermal states: pause/resume (warm), stop/start (cold), named snapshots ----
    static void benchThermal(int mb) throws Exception {
        String name = prefix + "-t" + mb;
        var r = request("POST", "/sandboxes", "{\"name\":\"" + name + "\",\"cpus\":" + cpus + ",\"memory_mb\":" + mb
                + ",\"keep_hot\":true}", true);
        String id = field(r.body, "id");
        execOk(id);
        System.out.printf("%n== 4. thermal states, %d MiB guest (pause/resume N=%d, stop/start N=%d) ==%n", mb, nPause, nCold);
        var pause = new Stats("pause " + mb + "M (API)");
        var resume = new Stats("resume " + mb + "M (API)");
        var warmExec = new Stats("warm resume + exec " + mb + "M");
        var hotExec = new Stats("exec true, hot " + mb + "M");
        for (int i = 0; i < nPause; i++) {
            pause.add(timed(() -> request("POST", "/sandboxes/" + id + "/pause", null, true)));
            resume.add(timed(() -> request("POST", "/sandboxes/" + id + "/resume", null, true)));
            hotExec.add(timed(() -> execOk(id)));
            request("POST", "/sandboxes/" + id + "/pause", null, true);
            warmExec.add(timed(() -> execOk(id))); // wakes it transparently
        }
        var stop = new Stats("stop " + mb + "M (snapshot to disk)");
        var start = new Stats("start " + mb + "M (API)");
        var coldExec = new Stats("cold start + first exec " + mb + "M");
        var coldWake = new Stats("cold wake by exec " + mb + "M");
        long snapshotBytes = 0;
        for (int i = 0; i < nCold; i++) {
            stop.add(timed(() -> request("POST", "/sandboxes/" + id + "/stop", null, true)));
            snapshotBytes = Math.max(snapshotBytes, number(request("GET", "/sandboxes/" + id, null, true).body, "disk_bytes"));
            long t0 = System.nanoTime();
            request("POST", "/sandboxes/" + id + "/start", null, true);
            start.add(System.nanoTime() - t0);
            execOk(id);
            coldExec.add(System.nanoTime() - t0);
            request("POST", "/sandboxes/" + id + "/stop", null, true);
            coldWake.add(timed(() -> execOk(id)));
        }
        var snapCreate = new Stats("snapshot create " + mb + "M (hot)");
        var snapResume = new Stats("snapshot resume + exec " + mb + "M");
        long namedBytes = 0;
        for (int i = 0; i < Math.max(1, nCold / 2); i++) {
            String snap = name + "-s" + i;
            long t0 = System.nanoTime();
            var s = request("POST", "/sandboxes/" + id + "/checkpoint", "{\"name\":\"" + snap + "\"}", true);
            snapCreate.add(System.nanoTime() - t0);
            namedBytes = number(s.body, "size_bytes");
            long t1 = System.nanoTime();
            var clone = request("POST", "/snapshots/" + snap + "/resume", "{\"name\":\"" + snap + "-c\"}", true);
            execOk(field(clone.body, "id"));
            snapResume.add(System.nanoTime() - t1);
            destroy(field(clone.body, "id"));
            request("DELETE", "/snapshots/" + snap, null, true);
        }
        destroy(id);
        for (Stats st : List.of(pause, resume, hotExec, warmExec, stop, start, coldExec, coldWake, snapCreate, snapResume)) put(st);
        print(pause, resume, hotExec, warmExec, stop, start, coldExec, coldWake, snapCreate, snapResume);
        System.out.printf(Locale.ROOT, "  cold sandbox on disk (disk layer + memory snapshot): %.1f MB; named snapshot: %.1f MB%n",
                snapshotBytes / 1048576.0, namedBytes / 1048576.0);
        engineTimes(id, mb);
    }

    /** The engine's own timings for one VM, from the daemon log (the floor under the API numbers). */
    static void engineTimes(String id, int mb) throws IOException {
        if (daemonLog == null || !Files.isReadable(daemonLog)) return;
        var patterns = new LinkedHashMap<String, Pattern>();
        patterns.put("engine pause " + mb + "M (QMP stop)", Pattern.compile("vm " + id + " paused in (\\d+) us"));
        patterns.put("engine resume " + mb + "M (QMP cont)", Pattern.compile("vm " + id + " resumed in (\\d+) us"));
        patterns.put("engine suspend " + mb + "M", Pattern.compile("vm " + id + " suspended to disk in (\\d+) ms"));
        patterns.put("engine restore " + mb + "M", Pattern.compile("vm " + id + " restored in (\\d+) ms"));
        List<String> lines = Files.readAllLines(daemonLog);
        var all = new ArrayList<Stats>();
        for (var e : patterns.entrySet()) {
            var st = new Stats(e.getKey());
            boolean micros = e.getValue().pattern().contains(" us");
            for (String line : lines) {
                Matcher m = e.getValue().matcher(line);
                if (m.find()) st.add(Long.parseLong(m.group(1)) * (micros ? 1_000 : 1_000_000));
            }
            if (st.n() > 0) {
                all.add(st);
                put(st);
            }
        }
        if (!all.isEmpty()) print(all.toArray(Stats[]::new));
    }

    interface Call { void run() throws Exception; }

    static long timed(Call c) throws Exception {
        long t0 = System.nanoTime();
        c.run();
        return System.nanoTime() - t0;
    }

    static long number(String json, String key) {
        Matcher m = Pattern.compile("\"" + Pattern.quote(key) + "\"\\s*:\\s*(\\d+)").matcher(json);
        return m.find() ? Long.parseLong(m.group(1)) : 0;
    }

    // ---- 5. API throughput under concurrent clients ----
    static void benchThroughput() throws Exception {
        System.out.printf("%n== 5. API throughput: %d concurrent clients for %d s each (rate limits off in this daemon) ==%n",
                loadClients, loadSeconds);
        create(prefix + "-load"); // so that the list has something to serialize
        System.out.printf(ROW, "(ms)", "N", "p50", "p95", "p99", "min", "max");
        for (String path : List.of("/health", "/sandboxes")) {
            var lat = new Stats("load " + path);
            var all = java.util.Collections.synchronizedList(new ArrayList<Long>());
            var errors = new java.util.concurrent.atomic.AtomicInteger();
            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(loadSeconds);
            var threads = new ArrayList<Thread>();
            long t0 = System.nanoTime();
            for (int c = 0; c < loadClients; c++) {
                threads.add(Thread.ofVirtual().start(() -> {
                    var mine = new ArrayList<Long>();
                    while (System.nanoTime() < end) {
                        long a = System.nanoTime();
                        try {
                            if (request("GET", path, null, false).status != 200) errors.incrementAndGet();
                        } catch (Exception e) {
                            errors.incrementAndGet();
                        }
                        mine.add(System.nanoTime() - a);
                    }
                    all.addAll(mine);
                }));
            }
            for (Thread t : threads) t.join();
            double seconds = (System.nanoTime() - t0) / 1e9;
            all.forEach(lat::add);
            put(lat);
            System.out.printf(Locale.ROOT, ROW, lat.label, lat.n(), f(lat.p(50)), f(lat.p(95)), f(lat.p(99)), f(lat.p(0)), f(lat.p(100)));
            System.out.printf(Locale.ROOT, "    %.0f requests/s, %d errors%n", lat.n() / seconds, errors.get());
            if (errors.get() > 0) throw new IllegalStateException(errors.get() + " failed requests to " + path + " under load");
        }
    }

    // ---- API calls ----
    record Resp(int status, String body) {}

    static Resp request(String method, String path, String json, boolean mustSucceed) throws IOException, InterruptedException {
        var b = HttpRequest.newBuilder(URI.create(url + path)).timeout(Duration.ofSeconds(300));
        if (!path.equals("/health")) b.header("Authorization", "Bearer " + token);
        if (json != null) b.header("Content-Type", "application/json").method(method, HttpRequest.BodyPublishers.ofString(json));
        else b.method(method, HttpRequest.BodyPublishers.noBody());
        var r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
        if (mustSucceed && r.statusCode() / 100 != 2) {
            throw new IllegalStateException(method + " " + path + " -> HTTP " + r.statusCode() + ": " + r.body());
        }
        return new Resp(r.statusCode(), r.body());
    }

    static String create(String name) throws Exception {
        var r = request("POST", "/sandboxes",
                "{\"name\":\"" + name + "\",\"cpus\":" + cpus + ",\"memory_mb\":" + memoryMb + "}", true);
        if (r.status != 201) throw new IllegalStateException("create " + name + ": expected 201, got " + r.status + ": " + r.body);
        String id = field(r.body, "id");
        if (id == null) throw new IllegalStateException("create " + name + ": no id in " + r.body);
        return id;
    }

    static void destroy(String idOrName) throws Exception {
        request("DELETE", "/sandboxes/" + idOrName, null, true);
    }

    static Resp exec(String id, int timeoutSec) throws Exception {
        return request("POST", "/sandboxes/" + id + "/exec", "{\"cmd\":[\"true\"],\"timeout_sec\":" + timeoutSec + "}", false);
    }

    static void execOk(String id) throws Exception {
        var r = exec(id, 30);
        if (r.status != 200 || exitCode(r.body) != 0) {
            throw new IllegalStateException("exec true -> HTTP " + r.status + ": " + r.body);
        }
    }

    static void health() throws Exception {
        var r = request("GET", "/health", null, false);
        if (r.status != 200) {
            throw new IllegalStateException("GET /health -> HTTP " + r.status + ": " + r.body);
        }
    }

    /** Destroys every sandbox whose name starts with our prefix (by listing, so a create cut short is caught too). */
    static synchronized void destroyAll() {
        try {
            var r = request("GET", "/sandboxes", null, false);
            if (r.status != 200) return;
            Matcher m = Pattern.compile("\"name\"\\s*:\\s*\"(" + Pattern.quote(prefix) + "[^\"]*)\"").matcher(r.body);
            while (m.find()) {
                try {
                    request("DELETE", "/sandboxes/" + m.group(1), null, false);
                } catch (Exception e) {
                    System.err.println("cleanup: could not destroy " + m.group(1) + ": " + e);
                }
            }
        } catch (Exception e) {
            System.err.println("cleanup: " + e);
        }
    }

    // ---- 6. published port through the public proxy: hot, warm, cold; a forward as the floor ----
    static void benchProxy() throws Exception {
        String name = prefix + "-web";
        String id = create(name);
        request("POST", "/sandboxes/" + id + "/exec",
                "{\"cmd\":[\"sh\",\"-c\",\"mkdir -p /tmp/w && echo ok > /tmp/w/index.html && busybox httpd -p 3000 -h /tmp/w\"]}", true);
        String alias = name.replaceAll("[^a-z0-9-]", "-");
        request("POST", "/sandboxes/" + id + "/publish", "{\"port\":3000,\"alias\":\"" + alias + "\"}", true);
        var fwd = request("POST", "/sandboxes/" + id + "/forward", "{\"guest_port\":3000,\"host_port\":0}", true);
        int forwardPort = Integer.parseInt(field(fwd.body, "host_port"));
        String host = alias + "." + proxyDomain;
        System.out.printf("%n== 6. published port (GET / of busybox httpd in the guest; a new TCP connection per request) ==%n");
        var viaForward = new Stats("GET via forward (floor)");
        var hot = new Stats("GET via proxy, hot");
        var warm = new Stats("GET via proxy, warm (paused)");
        var cold = new Stats("GET via proxy, cold (stopped)");
        for (int i = 0; i < 5; i++) {
            rawGet(forwardPort, "localhost");
            rawGet(proxyPort, host);
        }
        for (int i = 0; i < nProxy; i++) {
            viaForward.add(rawGet(forwardPort, "localhost"));
            hot.add(rawGet(proxyPort, host));
        }
        for (int i = 0; i < nCold; i++) {
            request("POST", "/sandboxes/" + id + "/pause", null, true);
            warm.add(rawGet(proxyPort, host));
            request("POST", "/sandboxes/" + id + "/stop", null, true);
            cold.add(rawGet(proxyPort, host));
        }
        for (var st : List.of(viaForward, hot, warm, cold)) put(st);
        print(viaForward, hot, warm, cold);
    }

    /** One HTTP/1.1 GET / on a new connection; returns its duration, or throws unless 200. */
    static long rawGet(int port, String host) throws IOException {
        long t0 = System.nanoTime();
        try (var s = new java.net.Socket("127.0.0.1", port)) {
            s.setSoTimeout(120_000);
            s.getOutputStream().write(("GET / HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n")
                    .getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            String reply = new String(s.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.ISO_8859_1);
            if (!reply.startsWith("HTTP/1.1 200") && !reply.startsWith("HTTP/1.0 200")) {
                throw new IllegalStateException("GET via port " + port + " (Host " + host + "): " + reply.lines().findFirst().orElse("no answer"));
            }
        }
        return System.nanoTime() - t0;
    }

    // ---- CLI ----
    static long runCli(String... args) throws Exception {
        var cmd = new ArrayList<String>();
        cmd.add(cli);
        cmd.addAll(Arrays.asList(args));
        var pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        long t0 = System.nanoTime();
        Process p = pb.start();
        byte[] out = p.getInputStream().readAllBytes();
        int rc = p.waitFor();
        long dt = System.nanoTime() - t0;
        if (rc != 0) {
            throw new IllegalStateException(String.join(" ", cmd) + " exited " + rc + ": " + new String(out));
        }
        return dt;
    }

    // ---- stats ----
    static final class Stats {
        final String label;
        final List<Long> nanos = new ArrayList<>();
        Stats(String label) { this.label = label; }
        void add(long ns) { nanos.add(ns); }
        int n() { return nanos.size(); }
        /** Nearest-rank percentile, in ms. */
        double p(double pct) {
            long[] s = nanos.stream().mapToLong(Long::longValue).sorted().toArray();
            if (s.length == 0) return Double.NaN;
            int rank = (int) Math.ceil(pct / 100.0 * s.length);
            return ms(s[Math.max(0, Math.min(s.length - 1, rank - 1))]);
        }
    }

    static void put(Stats s) { results.put(s.label, s); }

    static final String ROW = "  %-34s %5s %9s %9s %9s %9s %9s%n";

    static void print(Stats... all) {
        System.out.printf(ROW, "(ms)", "N", "p50", "p95", "p99", "min", "max");
        for (var s : all) {
            System.out.printf(Locale.ROOT, ROW, s.label, s.n(), f(s.p(50)), f(s.p(95)), f(s.p(99)), f(s.p(0)), f(s.p(100)));
        }
    }

    static void printSummary() {
        System.out.printf("%n== summary (ms; nearest-rank percentiles; ratio = p50 / p50 of baseline) ==%n");
        String row = "  %-34s %5s %9s %9s %9s %9s %9s  %s%n";
        System.out.printf(row, "measurement", "N", "p50", "p95", "p99", "min", "max", "vs baseline");
        String[][] lines = {
                {"POST /sandboxes (create)", null},
                {"create-to-first-exec", null},
                {"DELETE /sandboxes/{id}", null},
                {"GET /health", null},
                {"POST /sandboxes/{id}/exec true", "GET /health"},
                {"bhatti --version", null},
                {"bhatti exec NAME -- true", "bhatti --version"},
        };
        var rows = new ArrayList<>(Arrays.asList(lines));
        for (int mb : thermalMemory) {
            rows.add(new String[]{"engine pause " + mb + "M (QMP stop)", null});
            rows.add(new String[]{"pause " + mb + "M (API)", "engine pause " + mb + "M (QMP stop)"});
            rows.add(new String[]{"engine resume " + mb + "M (QMP cont)", null});
            rows.add(new String[]{"resume " + mb + "M (API)", "engine resume " + mb + "M (QMP cont)"});
            rows.add(new String[]{"exec true, hot " + mb + "M", null});
            rows.add(new String[]{"warm resume + exec " + mb + "M", "exec true, hot " + mb + "M"});
            rows.add(new String[]{"engine suspend " + mb + "M", null});
            rows.add(new String[]{"stop " + mb + "M (snapshot to disk)", "engine suspend " + mb + "M"});
            rows.add(new String[]{"engine restore " + mb + "M", null});
            rows.add(new String[]{"start " + mb + "M (API)", "engine restore " + mb + "M"});
            rows.add(new String[]{"cold start + first exec " + mb + "M", "engine restore " + mb + "M"});
            rows.add(new String[]{"cold wake by exec " + mb + "M", "engine restore " + mb + "M"});
            rows.add(new String[]{"snapshot create " + mb + "M (hot)", null});
            rows.add(new String[]{"snapshot resume + exec " + mb + "M", null});
        }
        rows.add(new String[]{"load /health", null});
        rows.add(new String[]{"load /sandboxes", "load /health"});
        for (String[] l : rows) {
            Stats s = results.get(l[0]);
            if (s == null || s.n() == 0) continue;
            String cmp = l[1] == null ? (l[0].contains("--version") || l[0].contains("health") || l[0].startsWith("engine")
                    || l[0].startsWith("exec true, hot") ? "(baseline)" : "")
                    : ratio(s, results.get(l[1]));
            System.out.printf(Locale.ROOT, row, s.label, s.n(), f(s.p(50)), f(s.p(95)), f(s.p(99)), f(s.p(0)), f(s.p(100)), cmp);
        }
    }

    static String ratio(Stats s, Stats base) {
        if (base == null || base.n() == 0) return "";
        return String.format(Locale.ROOT, "%.1fx (+%s ms p50)", s.p(50) / base.p(50), f(s.p(50) - base.p(50)));
    }

    // ---- misc ----
    static void printHeader() throws Exception {
        System.out.println("bhatti latency benchmark");
        System.out.println("date:        " + java.time.ZonedDateTime.now().withNano(0));
        System.out.println("daemon:      " + url + "  " + request("GET", "/health", null, true).body);
        System.out.println("host cpus:   " + Runtime.getRuntime().availableProcessors() + " (nproc)");
        System.out.println("cpu model:   " + cpuModel());
        System.out.println("kernel:      " + readFirst("/proc/sys/kernel/osrelease"));
        System.out.println("bench JVM:   " + System.getProperty("java.vm.name") + " " + System.getProperty("java.version"));
        System.out.println("load avg:    " + loadAvg() + "  (at start)");
        boolean devKvm = Files.isReadable(Path.of("/dev/kvm")) && Files.isWritable(Path.of("/dev/kvm"));
        System.out.println("kvm:         /dev/kvm " + (devKvm ? "accessible" : "not accessible") + ", cpu virt flag (vmx/svm) "
                + (hasVirtFlag() ? "present" : "absent") + (devKvm && hasVirtFlag() ? "" : " -> expect TCG"));
        System.out.println("accelerator: reported per sandbox below (GET /sandboxes/{id} -> accelerator)");
    }

    static String cpuModel() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("model name")) return line.substring(line.indexOf(':') + 1).trim();
            }
        } catch (IOException ignored) {
            // not Linux
        }
        return "unknown";
    }

    static boolean hasVirtFlag() {
        try {
            return Files.readAllLines(Path.of("/proc/cpuinfo")).stream()
                    .anyMatch(l -> l.startsWith("flags") && (l.contains(" vmx") || l.contains(" svm")));
        } catch (IOException e) {
            return false;
        }
    }

    static String loadAvg() {
        String s = readFirst("/proc/loadavg");
        String[] p = s.split(" ");
        return p.length >= 3 ? p[0] + " " + p[1] + " " + p[2] : s;
    }

    static String readFirst(String file) {
        try {
            return Files.readAllLines(Path.of(file)).getFirst().trim();
        } catch (Exception e) {
            return "unknown";
        }
    }

    /** A top-level-ish string field from a flat JSON object (the API's replies are flat). */
    static String field(String json, String key) {
        Matcher m = Pattern.compile("\"" + Pattern.quote(key) + "\"\\s*:\\s*\"([^\"]*)\"").matcher(json);
        return m.find() ? m.group(1) : null;
    }

    static int exitCode(String json) {
        Matcher m = Pattern.compile("\"exit_code\"\\s*:\\s*(-?\\d+)").matcher(json);
        return m.find() ? Integer.parseInt(m.group(1)) : Integer.MIN_VALUE;
    }

    static double ms(long ns) { return ns / 1_000_000.0; }

    static String f(double v) { return String.format(Locale.ROOT, v >= 100 ? "%.0f" : "%.2f", v); }

    static void parseArgs(String[] a) {
        for (int i = 0; i < a.length; i++) {
            String v = i + 1 < a.length ? a[i + 1] : null;
            switch (a[i]) {
                case "--url" -> { url = v; i++; }
                case "--token" -> { token = v; i++; }
                case "--cli" -> { cli = v; i++; }
                case "--n-create" -> { nCreate = Integer.parseInt(v); i++; }
                case "--n-http" -> { nHttp = Integer.parseInt(v); i++; }
                case "--warmup-http" -> { warmHttp = Integer.parseInt(v); i++; }
                case "--n-cli" -> { nCli = Integer.parseInt(v); i++; }
                case "--warmup-cli" -> { warmCli = Integer.parseInt(v); i++; }
                case "--cpus" -> { cpus = Integer.parseInt(v); i++; }
                case "--memory" -> { memoryMb = Integer.parseInt(v); i++; }
                case "--prefix" -> { prefix = v; i++; }
                case "--n-pause" -> { nPause = Integer.parseInt(v); i++; }
                case "--n-cold" -> { nCold = Integer.parseInt(v); i++; }
                case "--thermal-memory" -> {
                    thermalMemory = v.isEmpty() ? List.of() : Arrays.stream(v.split(",")).map(Integer::parseInt).toList();
                    i++;
                }
                case "--daemon-log" -> { daemonLog = Path.of(v); i++; }
                case "--proxy-port" -> { proxyPort = Integer.parseInt(v); i++; }
                case "--proxy-domain" -> { proxyDomain = v; i++; }
                case "--n-proxy" -> { nProxy = Integer.parseInt(v); i++; }
                case "--load-clients" -> { loadClients = Integer.parseInt(v); i++; }
                case "--load-seconds" -> { loadSeconds = Integer.parseInt(v); i++; }
                default -> usage("unknown option " + a[i]);
            }
        }
        if (url == null || token == null || cli == null) usage("--url, --token and --cli are required");
        if (token.isBlank()) usage("empty token");
        url = url.replaceAll("/+$", "");
    }

    static void usage(String msg) {
        System.err.println("Bench: " + msg + "\nusage: java Bench.java --url URL --token KEY --cli PATH/bin/bhatti "
                + "[--n-create 5] [--n-http 200] [--warmup-http 10] [--n-cli 20] [--warmup-cli 2] [--cpus 1] [--memory 512]"
                + " [--n-pause 20] [--n-cold 5] [--thermal-memory 256,1024 (empty: skip)] [--daemon-log FILE]"
                + " [--load-clients 50] [--load-seconds 10 (0: skip)]");
        System.exit(2);
    }
}
