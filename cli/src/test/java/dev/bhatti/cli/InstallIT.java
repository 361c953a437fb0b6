package dev.bhatti.cli;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The release bundle, its installer, `bhatti update` and the uninstaller, on real VMs. The machine has no
 * systemd as PID 1, so everything goes into a scratch root (install.sh --root) and the installed daemon
 * runs from there; the unit is checked with systemd-analyze.
 */
class InstallIT {
    static Path work, root, data, bundles;
    static int port;
    static boolean passed;

    @BeforeAll
    static void bundles() throws Exception {
        work = Files.createTempDirectory("bhatti-install-");
        Files.setPosixFilePermissions(work, PosixFilePermissions.fromString("rwxr-xr-x")); // nobody runs the installer below
        root = work.resolve("root");
        data = root.resolve("var/lib/bhatti");
        bundles = work.resolve("bundles");
        port = BhattiProcess.freeApiPort(); // the default public proxy takes the next one
        // The tier the tests already built, as an earlier install would have left it: the installer's tier step
        // then runs for real and finds it up to date (a fresh build here would add minutes to CI for nothing new).
        // Only minimal's files (linkImages links those): the cache may hold other tiers' multi-GiB images too.
        Path linked = BhattiProcess.linkImages(Files.createDirectories(work.resolve("link")));
        Path images = Files.createDirectories(data.resolve("images"));
        try (Stream<Path> files = Files.list(linked)) {
            for (Path f : files.map(p -> p.toAbsolutePath()).toList()) {
                var cp = run(Map.of(), "cp", "--sparse=always", "--preserve=timestamps", f.toString(), images.resolve(f.getFileName()).toString());
                assertThat(cp.exit()).as(cp.toString()).isZero();
            }
        }
        for (String version : List.of("0.9.0", "0.9.1", "1.0.0")) {
            var r = run(Map.of(), repo().resolve("scripts/package.sh").toString(), "--no-build", "--version", version, "--out", bundles.toString());
            assertThat(r.exit()).as(r.toString()).isZero();
            var x = run(Map.of(), "tar", "-C", bundles.toString(), "-xzf", bundles.resolve("bhatti-" + version + "-linux-amd64.tar.gz").toString());
            assertThat(x.exit()).as(x.toString()).isZero();
        }
    }

    @AfterAll
    static void cleanUp() throws Exception {
        Path log = root.resolve("var/log/bhatti/daemon.log");
        if (!passed && Files.exists(log)) System.out.println("--- the installed daemon's log\n" + Files.readString(log));
        // whatever a failed step left: the installed daemon and its VMs, then the files
        run(Map.of(), "pkill", "-KILL", "-f", root + "/opt/bhatti/lib/bhatti.jar");
        run(Map.of(), "pkill", "-KILL", "-f", data + "/sandboxes/");
        run(Map.of(), "rm", "-rf", work.toString());
    }

    static Path repo() { return Path.of("").toAbsolutePath().getParent(); }

    static Path installer(String version) { return bundles.resolve("bhatti-" + version + "-linux-amd64/install.sh"); }

    static BhattiProcess.Result run(Map<String, String> env, String... cmd) throws IOException, InterruptedException {
        var pb = new ProcessBuilder(cmd).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        pb.environment().remove("BHATTI_URL");
        pb.environment().remove("BHATTI_TOKEN");
        pb.environment().put("BHATTI_CONFIG", root.resolve("root/.bhatti/config.yaml").toString());
        pb.environment().putAll(env);
        Path out = Files.createTempFile("install-it", ".out"), err = Files.createTempFile("install-it", ".err");
        try {
            Process p = pb.redirectOutput(out.toFile()).redirectError(err.toFile()).start();
            if (!p.waitFor(15, TimeUnit.MINUTES)) {
                p.destroyForcibly();
                throw new AssertionError(String.join(" ", cmd) + " did not finish");
            }
            return new BhattiProcess.Result(p.exitValue(), Files.readString(out), Files.readString(err));
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }

    /** The installed CLI, with the admin's CLI config the installer wrote. */
    static BhattiProcess.Result bhatti(String... args) throws Exception {
        var cmd = new ArrayList<>(List.of(root.resolve("usr/local/bin/bhatti").toString()));
        cmd.addAll(List.of(args));
        return run(Map.of(), cmd.toArray(String[]::new));
    }

    static BhattiProcess.Result ok(BhattiProcess.Result r) {
        assertThat(r.exit()).as(r.toString()).isZero();
        return r;
    }

    static String daemonPid() throws IOException { return Files.readString(data.resolve("daemon.pid")).strip(); }

    static JsonNode sandbox(String name) throws Exception {
        return ApiClient.JSON.readTree(ok(bhatti("inspect", name, "--json")).stdout());
    }

    @Test
    void installUpdateAndUninstallKeepSandboxesAndLeaveNothingBehind() throws Exception {
        // --- without root: refused, with what to do -------------------------------------------------------
        var nobody = run(Map.of(), "setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                installer("0.9.0").toString(), "--root", root.toString());
        assertThat(nobody.exit()).as(nobody.toString()).isNotZero();
        assertThat(nobody.stderr()).contains("needs root").contains("sudo");
        assertThat(root.resolve("opt")).doesNotExist();

        // --- a fresh install: files, config, tier, daemon, admin key ----------------------------------------
        long t0 = System.nanoTime();
        var install = ok(run(Map.of(), installer("0.9.0").toString(), "--root", root.toString(), "--listen", "127.0.0.1:" + port,
                "--no-network", "--no-deps", "--tier", "minimal"));
        System.out.printf("InstallIT: install with the minimal tier (up to date) took %d ms%n", (System.nanoTime() - t0) / 1_000_000);
        assertThat(install.stdout()).contains("installing bhatti 0.9.0").contains("tier minimal ready").contains("starting the daemon");
        assertThat(install.stderr()).as("the tier build's progress").contains("up to date");
        assertThat(install.stderr()).contains("systemd is not running");
        String key = Files.readString(data.resolve("admin-api-key")).strip();
        assertThat(install.stdout()).as("the key is printed once, on the first install").contains(key);
        assertThat(root.resolve("root/.bhatti/config.yaml")).content().contains("auth_token: " + key).contains("127.0.0.1:" + port);
        assertThat(Files.getPosixFilePermissions(root.resolve("root/.bhatti/config.yaml"))).isEqualTo(PosixFilePermissions.fromString("rw-------"));
        assertThat(root.resolve("etc/bhatti/config.yaml")).content().contains("listen: 127.0.0.1:" + port).contains("data_dir: " + data);
        assertThat(root.resolve("opt/bhatti/VERSION")).hasContent("0.9.0");
        assertThat(Files.readSymbolicLink(root.resolve("usr/local/bin/bhatti"))).isEqualTo(root.resolve("opt/bhatti/bin/bhatti"));
        assertThat(ok(bhatti("version")).stdout()).contains("0.1.0");

        // the unit, as systemd reads it (the paths made the scratch root's, which is where the files are)
        Path unit = work.resolve("bhatti.service");
        Files.writeString(unit, Files.readString(root.resolve("etc/systemd/system/bhatti.service"))
                .replace("/opt/bhatti", root + "/opt/bhatti").replace("/etc/bhatti", root + "/etc/bhatti"));
        var verify = run(Map.of(), "systemd-analyze", "verify", "--man=no", unit.toString());
        assertThat(verify.exit()).as(verify.toString()).isZero();
        assertThat(verify.stdout() + verify.stderr()).as("no warnings").isBlank();
        assertThat(Files.readString(unit)).contains("KillMode=process").contains("Restart=always").contains("--cli-config none");

        // --- again: nothing changes, the daemon is not restarted, the key is not shown again ----------------
        String pid = daemonPid();
        var again = ok(run(Map.of(), installer("0.9.0").toString(), "--root", root.toString(), "--no-deps", "--tier", "minimal"));
        assertThat(again.stdout()).contains("up to date").contains("keeping").contains("nothing changed").doesNotContain(key);
        assertThat(daemonPid()).isEqualTo(pid);

        // --- sandboxes in each state, with the boot they are in ---------------------------------------------
        ok(bhatti("create", "--name", "warm"));
        ok(bhatti("create", "--name", "cold"));
        String warmBoot = ok(bhatti("exec", "warm", "--", "cat", "/proc/sys/kernel/random/boot_id")).stdout();
        String coldBoot = ok(bhatti("exec", "cold", "--", "cat", "/proc/sys/kernel/random/boot_id")).stdout();
        ok(bhatti("exec", "warm", "--", "sh", "-c", "echo kept > /dev/shm/marker"));
        ok(bhatti("pause", "warm"));
        ok(bhatti("stop", "cold"));

        // --- update to 0.9.1 while a client polls the API: how long it was away, and no state changed -------
        var down = new AtomicLong();
        var polling = new AtomicBoolean(true);
        Thread poller = Thread.ofPlatform().start(() -> {
            var http = HttpClient.newBuilder().connectTimeout(Duration.ofMillis(500)).build();
            long failingSince = -1;
            while (polling.get()) {
                boolean up;
                try {
                    up = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/health")).timeout(Duration.ofSeconds(1)).build(),
                            HttpResponse.BodyHandlers.discarding()).statusCode() == 200;
                } catch (IOException | InterruptedException e) {
                    up = false;
                }
                long now = System.nanoTime();
                if (!up && failingSince < 0) failingSince = now;
                if (up && failingSince >= 0) {
                    down.accumulateAndGet((now - failingSince) / 1_000_000, Math::max);
                    failingSince = -1;
                }
                try {
                    Thread.sleep(50); // the polling interval, not a wait for anything
                } catch (InterruptedException e) {
                    return;
                }
            }
        });
        var update = ok(bhatti("update", "--bundle", bundles.resolve("bhatti-0.9.1-linux-amd64.tar.gz").toString()));
        polling.set(false);
        poller.join();
        System.out.printf("InstallIT: during the update the API was unavailable for %d ms%n", down.get());
        assertThat(update.stdout()).contains("0.9.0 is installed; installing 0.9.1").contains("restarting the daemon");
        assertThat(root.resolve("opt/bhatti/VERSION")).hasContent("0.9.1");
        assertThat(daemonPid()).isNotEqualTo(pid);
        assertThat(sandbox("warm").path("thermal").asString()).as("warm stays warm").isEqualTo("warm");
        assertThat(sandbox("cold").path("thermal").asString()).as("cold stays cold").isEqualTo("cold");
        assertThat(ok(bhatti("exec", "warm", "--", "cat", "/proc/sys/kernel/random/boot_id", "/dev/shm/marker")).stdout())
                .as("the same boot, memory kept").isEqualTo(warmBoot + "kept\n");
        assertThat(ok(bhatti("exec", "cold", "--", "cat", "/proc/sys/kernel/random/boot_id")).stdout()).isEqualTo(coldBoot);

        // --- a bundle of another major version is refused unless forced; a damaged one always ---------------
        var major = bhatti("update", "--bundle", bundles.resolve("bhatti-1.0.0-linux-amd64.tar.gz").toString());
        assertThat(major.exit()).as(major.toString()).isNotZero();
        assertThat(major.stderr()).contains("different major version").contains("--force");
        assertThat(root.resolve("opt/bhatti/VERSION")).hasContent("0.9.1");
        Path damaged = work.resolve("bhatti-0.9.2-linux-amd64.tar.gz");
        Files.copy(bundles.resolve("bhatti-0.9.1-linux-amd64.tar.gz"), damaged);
        Files.writeString(work.resolve(damaged.getFileName() + ".sha256"), "0".repeat(64) + "  " + damaged.getFileName() + "\n");
        var bad = bhatti("update", "--bundle", damaged.toString());
        assertThat(bad.exit()).isNotZero();
        assertThat(bad.stderr()).contains("does not match");

        // --- an invalid system config: the daemon refuses to start and names the file, line and key ---------
        Path etc = root.resolve("etc/bhatti/config.yaml");
        Path broken = work.resolve("broken.yaml");
        Files.writeString(broken, Files.readString(etc) + "engine:\n  jail: sometimes\n");
        int line = (int) Files.readString(broken).lines().count();
        var refused = run(Map.of(), root.resolve("opt/bhatti/bin/bhatti").toString(), "serve", "--config", broken.toString(),
                "--data-dir", work.resolve("other-data").toString());
        assertThat(refused.exit()).isNotZero();
        assertThat(refused.stderr()).contains(broken + " line " + line + ": engine.jail must be true or false");

        // --- uninstall: asks first when sandboxes run, and refuses without an answer -----------------------
        ok(bhatti("exec", "cold", "--", "true")); // cold woke: two sandboxes run now
        assertThat(vmsOf(data)).as("their VMs, as the check below sees them").hasSize(2);
        var unasked = run(Map.of(), root.resolve("opt/bhatti/uninstall.sh").toString(), "--root", root.toString());
        assertThat(unasked.exit()).isNotZero();
        assertThat(unasked.stdout()).contains("These sandboxes are running").contains("warm").contains("cold");
        assertThat(unasked.stderr()).contains("-y");
        assertThat(root.resolve("opt/bhatti")).exists();

        var uninstall = ok(run(Map.of(), root.resolve("opt/bhatti/uninstall.sh").toString(), "--root", root.toString(), "-y"));
        assertThat(uninstall.stdout()).contains("puts the running sandboxes to disk").contains("kept " + data);
        assertThat(root.resolve("opt/bhatti")).doesNotExist();
        assertThat(root.resolve("etc/bhatti")).doesNotExist();
        assertThat(root.resolve("etc/systemd/system/bhatti.service")).doesNotExist();
        assertThat(root.resolve("usr/local/bin/bhatti")).doesNotExist();
        assertThat(vmsOf(data)).as("no VM is left without its daemon").isEmpty();
        assertThat(run(Map.of(), "pgrep", "-f", root + "/opt/bhatti/lib/bhatti.jar").exit()).as("the daemon ended").isNotZero();
        // both went to disk, to resume after a reinstall
        var left = BhattiProcess.cli(Map.of(), "admin", "sandboxes", "--json", "--data-dir", data.toString());
        assertThat(ApiClient.JSON.readTree(left.stdout()).findValuesAsString("status")).as(left.toString()).containsOnly("stopped");
        assertThat(data.resolve("state.db")).exists();

        // --- purge: the data too, and the CLI config holding its key --------------------------------------
        var purge = ok(run(Map.of(), repo().resolve("scripts/uninstall.sh").toString(), "--root", root.toString(), "--purge", "-y"));
        assertThat(purge.stdout()).contains("deleted " + data);
        assertThat(data).doesNotExist();
        assertThat(root.resolve("root/.bhatti/config.yaml")).doesNotExist();
        try (Stream<Path> files = Files.walk(root)) {
            assertThat(files.filter(p -> !Files.isDirectory(p)).toList()).as("no file of ours is left").isEmpty();
        }
        passed = true;
    }

    /** The QEMU processes whose command line names a sandbox directory under {@code dataDir}. */
    static List<Long> vmsOf(Path dataDir) {
        var pids = new ArrayList<Long>();
        ProcessHandle.allProcesses().forEach(p -> {
            try {
                String cmdline = Files.readString(Path.of("/proc", Long.toString(p.pid()), "cmdline")).replace('\0', ' ');
                if (cmdline.contains("qemu-system") && cmdline.contains(dataDir + "/sandboxes/")) pids.add(p.pid());
            } catch (IOException e) {
                // gone meanwhile
            }
        });
        return pids;
    }
}
