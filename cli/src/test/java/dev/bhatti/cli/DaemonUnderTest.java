package dev.bhatti.cli;

import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import tools.jackson.databind.JsonNode;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The daemon an integration test class runs against, set up and taken down in one place: a fresh data
 * directory under /tmp with the shared guest images linked in, the class's config.yaml, the daemon
 * started on a free port; at the end every sandbox destroyed, the daemon stopped, any QEMU it left
 * killed and its log printed. Register it as a static field:
 * <pre>{@code @RegisterExtension static final DaemonUnderTest bhatti = new DaemonUnderTest("bhatti-thermal-").config("...");}</pre>
 * Its callbacks run before the class's {@code @BeforeAll} methods and after its {@code @AfterAll} ones.
 */
final class DaemonUnderTest implements BeforeAllCallback, AfterAllCallback {

    /** Work with the data directory before the daemon starts (extra images, a CA, a network namespace). */
    @FunctionalInterface
    interface Setup {
        void run(Path dataDir) throws Exception;
    }

    /** The daemon's config.yaml, written once {@link Setup}s have run (ports, namespaces and CAs exist by then). */
    @FunctionalInterface
    interface Config {
        String yaml(Path dataDir) throws Exception;
    }

    /** Makes the data directory somewhere else than a fresh directory under /tmp (a small tmpfs, say). */
    @FunctionalInterface
    interface DataDir {
        Path create() throws Exception;
    }

    @FunctionalInterface
    interface Cleanup {
        void run() throws Exception;
    }

    private final String prefix;
    private final List<Setup> setups = new ArrayList<>();
    private final List<Cleanup> cleanups = new ArrayList<>();
    private Config config = dir -> "";
    private String[] tiers = {};
    private DataDir where;
    private boolean destroySandboxes = true;
    private int logLines;
    private Path dataDir;
    private BhattiProcess.Daemon daemon;

    DaemonUnderTest(String prefix) { this.prefix = prefix; }

    DaemonUnderTest config(String yaml) { return config(dir -> yaml); }

    DaemonUnderTest config(Config config) {
        this.config = config;
        return this;
    }

    /** Tiers besides minimal the daemon gets (built into the shared cache first when they are not up to date). */
    DaemonUnderTest tiers(String... tiers) {
        this.tiers = tiers.clone();
        return this;
    }

    DaemonUnderTest dataDirFrom(DataDir where) {
        this.where = where;
        return this;
    }

    DaemonUnderTest before(Setup setup) {
        setups.add(setup);
        return this;
    }

    /** Runs once the daemon is stopped (what the setups made that outlives it: a namespace, a CA). */
    DaemonUnderTest after(Cleanup cleanup) {
        cleanups.add(cleanup);
        return this;
    }

    /** Leaves the sandboxes to the daemon's stop (their VMs are killed anyway): for tests that count on what is left. */
    DaemonUnderTest keepSandboxesAtEnd() {
        destroySandboxes = false;
        return this;
    }

    /** Prints only the last {@code lines} lines of the daemon's log at the end (a long test's log is long). */
    DaemonUnderTest logTail(int lines) {
        this.logLines = lines;
        return this;
    }

    @Override
    public void beforeAll(ExtensionContext context) throws Exception {
        dataDir = where != null ? where.create() : Files.createTempDirectory(Path.of("/tmp"), prefix);
        BhattiProcess.linkImages(dataDir, tiers);
        for (Setup s : setups) s.run(dataDir);
        String yaml = withTestRateLimits(config.yaml(dataDir));
        Files.writeString(dataDir.resolve("config.yaml"), yaml);
        daemon = new BhattiProcess.Daemon(dataDir, BhattiProcess.freeApiPort()).start();
    }

    /**
     * A class that does not test rate limits is not throttled by them: on a fast machine a class's creates
     * (refused ones count too) outran the default 30 a minute and a 429 failed a volume test. Rate limits
     * are tested where a class configures its own.
     */
    static String withTestRateLimits(String yaml) {
        if (yaml.contains("rate_limits:")) return yaml;
        String sep = yaml.isEmpty() || yaml.endsWith("\n") ? "" : "\n";
        return yaml + sep + "rate_limits: {create: {burst: 0, per_minute: 0}, exec: {burst: 0, per_minute: 0}, read: {burst: 0, per_minute: 0}}\n";
    }

    @Override
    public void afterAll(ExtensionContext context) throws Exception {
        Exception first = null;
        try {
            if (daemon != null) {
                if (destroySandboxes) {
                    for (JsonNode s : json(call("GET", "/sandboxes", null).body())) call("DELETE", "/sandboxes/" + s.path("id").asString(), null);
                }
                if (logLines > 0) {
                    System.out.println(daemon.logTail(logLines));
                    daemon.stopAndKillVms();
                } else {
                    daemon.shutDown();
                }
            }
        } catch (Exception e) {
            first = e;
        }
        for (Cleanup c : cleanups) {
            try {
                c.run();
            } catch (Exception e) {
                if (first == null) first = e;
                else first.addSuppressed(e);
            }
        }
        if (first != null) throw first;
    }

    Path dataDir() { return dataDir; }

    /**
     * A user created on the server side ({@code bhatti user create --json} against the data dir) with the
     * given limit options (say {@code --max-sandboxes 0}); returns its API key.
     */
    String userKey(String name, String... limits) throws Exception {
        var args = new java.util.ArrayList<>(List.of("user", "create", "--name", name, "--json", "--data-dir", dataDir.toString()));
        args.addAll(List.of(limits));
        var r = BhattiProcess.cli(java.util.Map.of(), args.toArray(String[]::new));
        if (r.exit() != 0) throw new AssertionError("user create " + name + " failed: " + r);
        return json(r.stdout()).path("api_key").asString();
    }

    BhattiProcess.Daemon daemon() { return daemon; }

    HttpResponse<String> call(String method, String path, String body) throws Exception { return daemon.call(method, path, body); }

    /** {@code bhatti args...} as the admin user. */
    BhattiProcess.Result cli(String... args) throws Exception { return BhattiProcess.cli(daemon.env, args); }

    /** {@code bhatti args...} that must succeed. */
    BhattiProcess.Result ok(String... args) throws Exception {
        var r = cli(args);
        assertThat(r.exit()).as(r.toString()).isZero();
        return r;
    }

    /** {@code bhatti args...} that must be refused (a non-zero exit). */
    BhattiProcess.Result refused(String... args) throws Exception {
        var r = cli(args);
        assertThat(r.exit()).as(r.toString()).isNotZero();
        return r;
    }

    /** {@code bhatti exec SANDBOX -- cmd...}, which must succeed; its stdout. */
    String exec(String sandbox, String... cmd) throws Exception {
        var args = new ArrayList<>(List.of("exec", sandbox, "--"));
        args.addAll(List.of(cmd));
        return ok(args.toArray(String[]::new)).stdout();
    }

    JsonNode inspect(String name) throws Exception { return json(call("GET", "/sandboxes/" + name, null).body()); }

    static JsonNode json(String s) { return ApiClient.JSON.readTree(s); }
}
