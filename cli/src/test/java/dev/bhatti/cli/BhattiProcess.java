package dev.bhatti.cli;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/** Runs the real fat jar: the daemon as a long-lived process and CLI commands as short ones. */
final class BhattiProcess {

    static final Path JAR = Path.of(System.getProperty("bhatti.jar", "target/bhatti.jar")).toAbsolutePath();
    static final String JAVA = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    record Result(int exit, String stdout, String stderr) {
        @Override public String toString() { return "exit " + exit + "\n--- stdout\n" + stdout + "--- stderr\n" + stderr; }
    }

    /** Runs {@code bhatti args...} to completion with the given extra environment. */
    static Result cli(Map<String, String> env, String... args) throws IOException, InterruptedException {
        return cliWithInput(env, Path.of("/dev/null"), args);
    }

    /** Like {@link #cli} with the command's stdin read from {@code input}. */
    static Result cliWithInput(Map<String, String> env, Path input, String... args) throws IOException, InterruptedException {
        return cli(env, input, Duration.ofMinutes(10), args);
    }

    /** Like {@link #cliWithInput}, given {@code limit} to finish (a tier's first build takes longer than a command). */
    static Result cli(Map<String, String> env, Path input, Duration limit, String... args) throws IOException, InterruptedException {
        var cmd = new ArrayList<>(List.of(JAVA, "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "--enable-native-access=ALL-UNNAMED",
                "-jar", JAR.toString()));
        cmd.addAll(List.of(args));
        var pb = new ProcessBuilder(cmd).redirectInput(ProcessBuilder.Redirect.from(input.toFile()));
        pb.environment().putAll(env);
        Path out = Files.createTempFile("bhatti-cli", ".out");
        Path err = Files.createTempFile("bhatti-cli", ".err");
        try {
            Process p = pb.redirectOutput(out.toFile()).redirectError(err.toFile()).start();
            if (!p.waitFor(limit.toMillis(), TimeUnit.MILLISECONDS)) {
                p.destroyForcibly();
                throw new AssertionError("bhatti " + String.join(" ", args) + " did not finish");
            }
            return new Result(p.exitValue(), Files.readString(out), Files.readString(err));
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }

    /** Where the integration tests keep the guest image they build once and share. */
    static final Path IMAGE_CACHE = Path.of(System.getenv().getOrDefault("BHATTI_IT_IMAGES", "/var/cache/bhatti-build/it"));

    /**
     * Builds the minimal tier (and {@code tiers}) into the shared cache (a no-op when up to date) and links
     * the boot files and those tiers' root filesystems into {@code dataDir}/images. Returns that directory.
     */
    static Path linkImages(Path dataDir, String... tiers) throws IOException, InterruptedException {
        var wanted = new java.util.LinkedHashSet<String>();
        wanted.add("minimal");
        wanted.addAll(List.of(tiers));
        var args = new ArrayList<String>(List.of("tier", "build"));
        args.addAll(wanted);
        args.addAll(List.of("--data-dir", IMAGE_CACHE.toString()));
        var build = cli(Map.of(), Path.of("/dev/null"), Duration.ofMinutes(40), args.toArray(String[]::new));
        if (build.exit() != 0) throw new AssertionError("tier build failed: " + build);
        Path images = Files.createDirectory(dataDir.resolve("images"));
        try (var files = Files.list(IMAGE_CACHE.resolve("images"))) {
            // the boot files and the wanted tiers only: what a daemon writes there (user images, blobs) stays
            // in its own data directory, and other tests' tiers stay out of this one's image list
            for (Path f : files.filter(p -> linked(p.getFileName().toString(), wanted) && Files.isRegularFile(p)).toList()) {
                Files.createSymbolicLink(images.resolve(f.getFileName()), f);
            }
        }
        return images;
    }

    private static boolean linked(String name, java.util.Set<String> tiers) {
        if (name.startsWith(".")) return false;
        if (!name.startsWith("rootfs-")) return true;
        return tiers.stream().anyMatch(t -> name.startsWith("rootfs-" + t + "-"));
    }

    static int freePort() throws IOException {
        try (var s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    /**
     * A free port for a daemon's API whose successor is free too: a daemon without a proxy: section
     * runs its public proxy there, and daemons of concurrent tests should not take each other's.
     */
    static int freeApiPort() throws IOException {
        for (int attempt = 0; attempt < 50; attempt++) {
            try (var s = new ServerSocket(0)) {
                int port = s.getLocalPort();
                if (port == 65535) continue;
                try (var next = new ServerSocket(port + 1)) {
                    return port;
                } catch (IOException taken) {
                    // another pair
                }
            }
        }
        throw new IOException("no two adjacent free ports for a daemon's API and its default proxy");
    }

    /** A daemon process on a data directory. */
    static final class Daemon implements AutoCloseable {
        /** The daemons of this test JVM that are running, whose logs a failing test shows (DaemonLogOnFailure). */
        static final Set<Daemon> RUNNING = ConcurrentHashMap.newKeySet();

        final Path dataDir;
        final int port;
        final Map<String, String> env;
        private Process process;

        Daemon(Path dataDir, int port) {
            this.dataDir = dataDir;
            this.port = port;
            this.env = Map.of("BHATTI_CONFIG", dataDir.resolve("cli.yaml").toString());
        }

        String url() { return "http://127.0.0.1:" + port; }

        Daemon start() throws Exception {
            var pb = new ProcessBuilder(JAVA, "--enable-native-access=ALL-UNNAMED", "-jar", JAR.toString(), "serve",
                    "--config", "none", "--data-dir", dataDir.toString(), "--listen", "127.0.0.1:" + port)
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(dataDir.resolve("daemon.log").toFile()));
            pb.environment().putAll(env);
            process = pb.start();
            RUNNING.add(this);
            var http = HttpClient.newHttpClient();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (System.nanoTime() < deadline) {
                if (!process.isAlive()) throw new AssertionError("daemon exited:\n" + log());
                try {
                    var r = http.send(HttpRequest.newBuilder(URI.create(url() + "/health")).timeout(Duration.ofSeconds(2)).build(),
                            HttpResponse.BodyHandlers.ofString());
                    if (r.statusCode() == 200 && Files.exists(dataDir.resolve("cli.yaml"))) return this;
                } catch (IOException e) {
                    // not listening yet
                }
                Thread.sleep(200);
            }
            throw new AssertionError("daemon did not answer /health:\n" + log());
        }

        /** Stops the daemon the way a service manager would (SIGTERM). VMs keep running. */
        void stop() throws Exception {
            if (process == null) return;
            RUNNING.remove(this);
            process.destroy();
            if (!process.waitFor(30, TimeUnit.SECONDS)) process.destroyForcibly().waitFor();
            process = null;
        }

        /** The end of a test class: prints the daemon's log, stops it, and kills the VMs it leaves running. */
        void shutDown() throws Exception {
            System.out.println(log());
            stopAndKillVms();
        }

        /** Stops the daemon and kills the VMs it leaves running. */
        void stopAndKillVms() throws Exception {
            stop();
            for (long pid : processesMentioning(dataDir)) ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
        }

        /** Kills the daemon with SIGKILL, as a crash would. */
        void kill() throws Exception {
            if (process == null) return;
            RUNNING.remove(this);
            process.destroyForcibly().waitFor();
            process = null;
        }

        String log() throws IOException {
            Path f = dataDir.resolve("daemon.log");
            return Files.exists(f) ? Files.readString(f) : "";
        }

        /** The last {@code lines} lines of the daemon's log. */
        String logTail(int lines) throws IOException {
            List<String> all = log().lines().toList();
            return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
        }

        String apiKey() throws IOException { return Files.readString(dataDir.resolve("admin-api-key")).strip(); }

        /** One API call as the admin. */
        HttpResponse<String> call(String method, String path, String body) throws IOException, InterruptedException {
            return call(method, path, body, apiKey());
        }

        /** One API call with {@code key} (none if null). */
        HttpResponse<String> call(String method, String path, String body, String key) throws IOException, InterruptedException {
            var b = HttpRequest.newBuilder(URI.create(url() + path)).timeout(Duration.ofMinutes(5));
            if (key != null) b.header("Authorization", "Bearer " + key);
            b.method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
            return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
        }

        @Override
        public void close() throws Exception { stop(); }
    }

    /** Live processes whose command line mentions {@code path} (QEMU processes of a data dir). */
    static List<Long> processesMentioning(Path path) throws IOException {
        String needle = path.toString();
        try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
            return procs.filter(p -> p.getFileName().toString().matches("\\d+"))
                    .filter(p -> {
                        try {
                            String cmd = Files.readString(p.resolve("cmdline"), StandardCharsets.ISO_8859_1);
                            return cmd.startsWith("qemu-system") && cmd.contains(needle);
                        } catch (IOException e) {
                            return false;
                        }
                    })
                    .map(p -> Long.parseLong(p.getFileName().toString()))
                    .toList();
        }
    }

    private BhattiProcess() {}
}
