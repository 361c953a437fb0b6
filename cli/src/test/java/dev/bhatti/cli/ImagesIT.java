package dev.bhatti.cli;

import dev.bhatti.testkit.LocalRegistry;
import dev.bhatti.testkit.OciImage;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;
import tools.jackson.databind.JsonNode;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Images pulled from a real registry (Debian's docker-registry on loopback, images pushed with skopeo)
 * boot on real VMs whatever their C library: a Debian tree (glibc), a musl tree and one without a shell
 * (distroless-like). Their ENV, WORKDIR and USER apply to every command; deleting an image leaves the
 * sandboxes made from it running, through pause and stop.
 */
@ExtendWith(DaemonLogOnFailure.class)
class ImagesIT {

    @RegisterExtension
    static final DaemonUnderTest bhatti = new DaemonUnderTest("bhatti-images-");

    static Path work;
    static LocalRegistry registry;

    @BeforeAll
    static void registryWithTestImages() throws Exception {
        work = Files.createDirectories(bhatti.dataDir().resolve("test-images"));
        registry = new LocalRegistry(Files.createDirectories(work.resolve("registry")));

        // glibc: the tier build's debootstrap tree as a zstd layer, and a gzip layer over it that whites out
        // a file, adds a hard link and the working directory
        Path extra = Files.createDirectories(work.resolve("extra/srv/app"));
        Files.writeString(extra.resolve("hello.txt"), "hello from layer 2\n");
        Files.createLink(extra.resolve("hello-link.txt"), extra.resolve("hello.txt"));
        Files.createDirectories(work.resolve("extra/etc"));
        Files.createFile(work.resolve("extra/etc/.wh.motd"));
        push("debian", "{\"Env\":[\"PATH=/usr/local/bin:/usr/bin:/bin\",\"GREETING=from-the-image\"],\"WorkingDir\":\"/srv/app\","
                + "\"Cmd\":[\"bash\"]}", List.of(debootstrapTree(), OciImage.tarGz(work.resolve("extra"), work.resolve("extra.tar.gz"))));

        // musl: its dynamic loader and libc, and a static busybox as the shell; no glibc anywhere
        Path musl = Files.createDirectories(work.resolve("musl"));
        Files.createDirectories(musl.resolve("lib/x86_64-linux-musl"));
        Files.copy(Path.of("/usr/lib/x86_64-linux-musl/libc.so"), musl.resolve("lib/x86_64-linux-musl/libc.so"));
        Files.createSymbolicLink(musl.resolve("lib/ld-musl-x86_64.so.1"), Path.of("x86_64-linux-musl/libc.so"));
        Files.createDirectories(musl.resolve("bin"));
        Files.copy(Path.of("/bin/busybox"), musl.resolve("bin/busybox"));
        Files.createSymbolicLink(musl.resolve("bin/sh"), Path.of("busybox"));
        push("musl", "{\"Env\":[\"PATH=/bin\"]}", List.of(OciImage.tarGz(musl, work.resolve("musl.tar.gz"))));

        // distroless-like: no shell, a static binary, its own non-root user
        Path bare = Files.createDirectories(work.resolve("bare"));
        Files.createDirectories(bare.resolve("app"));
        Files.copy(Path.of("/bin/busybox"), bare.resolve("app/busybox"));
        Files.createDirectories(bare.resolve("etc"));
        Files.writeString(bare.resolve("etc/passwd"), "root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532::/home/nonroot:/sbin/nologin\n");
        push("bare", "{\"Env\":[\"PATH=/app\"],\"User\":\"65532\",\"WorkingDir\":\"/app\",\"Entrypoint\":[\"/app/busybox\"]}",
                List.of(OciImage.tarGz(bare, work.resolve("bare.tar.gz"))));
    }

    @AfterAll
    static void stopRegistry() {
        if (registry != null) registry.close();
    }

    static void push(String name, String config, List<Path> layers) throws Exception {
        registry.push(OciImage.layout(work.resolve("oci-" + name), config, layers), "test/" + name + ":1");
    }

    /** The base system the tier build cached (tar.zst), the largest real tree this machine has. */
    static Path debootstrapTree() throws Exception {
        try (Stream<Path> files = Files.list(Path.of("/var/cache/bhatti-build/rootfs"))) {
            return files.filter(p -> p.getFileName().toString().matches("debootstrap-.*\\.tar\\.zst"))
                    .max(Comparator.comparing(p -> p.toFile().lastModified()))
                    .orElseThrow(() -> new AssertionError("no debootstrap cache; the tier build makes it (bhatti tier build minimal)"));
        }
    }

    static BhattiProcess.Result cli(String... args) throws Exception { return bhatti.cli(args); }

    static BhattiProcess.Result ok(String... args) throws Exception {
        var r = cli(args);
        assertThat(r.exit()).as(r.toString()).isZero();
        return r;
    }

    static JsonNode json(String s) { return ApiClient.JSON.readTree(s); }

    static String exec(String sandbox, String... cmd) throws Exception {
        var args = new java.util.ArrayList<>(List.of("exec", sandbox, "--"));
        args.addAll(List.of(cmd));
        return ok(args.toArray(String[]::new)).stdout();
    }

    @Test
    void aGlibcImageBootsWithItsEnvWorkdirAndLayersAndOutlivesItsImage() throws Exception {
        var pulled = ok("image", "pull", registry.reference("test/debian:1"), "--json");
        assertThat(json(pulled.stdout()).path("state").asString()).isEqualTo("done");
        assertThat(json(pulled.stdout()).path("result").asString()).isEqualTo("debian:1");
        assertThat(ok("image", "list").stdout()).containsPattern("debian:1\\s+127\\.0\\.0\\.1:\\d+/test/debian:1\\s+\\d+ MB\\s+admin")
                .contains("minimal");
        JsonNode inspect = json(ok("image", "inspect", "debian:1", "--json").stdout());
        assertThat(inspect.path("digest").asString()).startsWith("sha256:");
        assertThat(inspect.path("config").path("workdir").asString()).isEqualTo("/srv/app");
        assertThat(inspect.path("config").path("cmd").toString()).isEqualTo("[\"bash\"]");
        assertThat(inspect.path("layers")).as("the two layers' diff_ids").hasSize(2);

        ok("create", "--name", "deb", "--image", "debian:1", "--env", "EXTRA=from-create", "--disk", "3G");
        assertThat(exec("deb", "sh", "-c", "df -m / | awk 'NR == 2 { if ($2 > 2700) print \"grown\"; else print $2 }'")).as("the file system grew to the disk")
                .isEqualTo("grown\n");
        assertThat(exec("deb", "sh", "-c", "echo $GREETING $EXTRA; pwd; id -u; cat /etc/debian_version; cat hello-link.txt"))
                .matches("from-the-image from-create\n/srv/app\n1000\n12\\.\\d+\nhello from layer 2\n");
        assertThat(exec("deb", "sh", "-c", "test -e /etc/motd && echo present || echo whited-out; stat -c %h hello.txt"))
                .isEqualTo("whited-out\n2\n");
        assertThat(ok("exec", "deb", "-w", "/", "--", "pwd").stdout()).isEqualTo("/\n");
        assertThat(exec("deb", "sudo", "-n", "id", "-u")).as("the image's own sudo, with a rule for the user it lacked").isEqualTo("0\n");
        assertThat(exec("deb", "sh", "-c", "findmnt -n -o OPTIONS /opt/bhatti | tr , '\\n' | head -1")).as("the tools disk is read-only")
                .isEqualTo("ro\n");

        // a named snapshot resumes as a new VM with the image and tools disk it was taken with
        ok("snapshot", "create", "deb", "--name", "debsnap");
        ok("snapshot", "resume", "debsnap", "--name", "deb-clone");
        assertThat(exec("deb-clone", "sh", "-c", "echo $GREETING; cat hello.txt")).isEqualTo("from-the-image\nhello from layer 2\n");
        ok("destroy", "-y", "deb-clone");

        // the image goes; its sandbox keeps its disk through a pause and a stop (which boot it again)
        ok("image", "delete", "-y", "debian:1");
        assertThat(ok("image", "list").stdout()).doesNotContain("debian:1");
        ok("pause", "deb");
        assertThat(exec("deb", "cat", "hello.txt")).isEqualTo("hello from layer 2\n");
        ok("stop", "deb");
        assertThat(exec("deb", "sh", "-c", "echo $GREETING; pwd")).isEqualTo("from-the-image\n/srv/app\n");
        assertThat(cli("create", "--name", "deb2", "--image", "debian:1").stderr()).contains("unknown image 'debian:1'");
        Path pins = bhatti.dataDir().resolve("images/users/.versions");
        assertThat(orphans(pins)).as("the deleted image's file, kept for its sandbox").hasSize(1);
        ok("destroy", "-y", "deb");
        assertThat(orphans(pins)).as("the snapshot still needs it").hasSize(1);
        ok("snapshot", "delete", "-y", "debsnap");
        assertThat(orphans(pins)).as("gone with its last sandbox and snapshot").isEmpty();
    }

    /** Kept files of images whose own file is gone (their only link is the pin). */
    static List<Path> orphans(Path pins) throws Exception {
        try (Stream<Path> files = Files.list(pins)) {
            return files.filter(p -> {
                try {
                    return (Integer) Files.getAttribute(p, "unix:nlink") == 1;
                } catch (java.io.IOException e) {
                    return false;
                }
            }).toList();
        }
    }

    @Test
    void aMuslImageBootsWithoutAnyGlibc() throws Exception {
        ok("image", "pull", registry.reference("test/musl:1"));
        ok("create", "--name", "musl", "--image", "musl:1");
        assertThat(exec("musl", "sh", "-c", "busybox df -m / | busybox awk 'NR == 2 { if ($2 > 1500) print \"roomy\"; else print $2 }'"))
                .as("room beyond the image's own content by default").isEqualTo("roomy\n");
        assertThat(exec("musl", "sh", "-c", "ls /lib; /lib/ld-musl-x86_64.so.1 2>&1 | head -1; id -u; pwd"))
                .isEqualTo("ld-musl-x86_64.so.1\nx86_64-linux-musl\nmusl libc (x86_64)\n1000\n/workspace\n");
        assertThat(exec("musl", "sh", "-c", "busybox grep -c ^ /etc/passwd")).as("uid 1000 was provided").isEqualTo("2\n");
        assertThat(exec("musl", "sudo", "busybox", "id", "-u")).as("and sudo, which the image lacks").isEqualTo("0\n");
        assertThat(exec("musl", "sudo", "-u", "bhatti", "busybox", "id", "-u")).isEqualTo("1000\n");
        assertThat(exec("musl", "sh", "-c", "echo x | sudo busybox tee /etc/written-as-root >/dev/null; busybox stat -c %u /etc/written-as-root"))
                .isEqualTo("0\n");
        ok("destroy", "-y", "musl");
    }

    @Test
    void anImageWithoutAShellRunsCommandsAsItsOwnUser() throws Exception {
        ok("image", "pull", registry.reference("test/bare:1"), "--name", "bare");
        ok("create", "--name", "bare", "--image", "bare");
        assertThat(exec("bare", "busybox", "id", "-u")).isEqualTo("65532\n");
        assertThat(exec("bare", "busybox", "pwd")).isEqualTo("/app\n");
        assertThat(ok("exec", "bare", "-u", "root", "--", "busybox", "id", "-u").stdout()).isEqualTo("0\n");
        var noShell = cli("exec", "bare", "--", "sh", "-c", "true");
        assertThat(noShell.exit()).isEqualTo(127);
        assertThat(noShell.stderr()).contains("sh: command not found");
        ok("destroy", "-y", "bare");
    }

    /** The server's own CLI (user accounts, shares) on the daemon's data directory. */
    static BhattiProcess.Result admin(String... args) throws Exception {
        var all = new java.util.ArrayList<>(List.of(args));
        all.addAll(List.of("--data-dir", bhatti.dataDir().toString()));
        return BhattiProcess.cli(java.util.Map.of(), all.toArray(String[]::new));
    }

    /** The CLI as the user holding {@code key}. */
    static BhattiProcess.Result as(String key, String... args) throws Exception {
        return BhattiProcess.cli(java.util.Map.of("BHATTI_URL", bhatti.daemon().url(), "BHATTI_TOKEN", key,
                "BHATTI_CONFIG", bhatti.dataDir().resolve("none.yaml").toString()), args);
    }

    @Test
    void aSavedSandboxBootsAsAnImageSharedOnlyWithNamedUsersWithinTheirStorage() throws Exception {
        ok("image", "pull", registry.reference("test/musl:1"), "--name", "base");
        ok("create", "--name", "src", "--image", "base");
        ok("exec", "src", "-u", "root", "--", "sh", "-c", "echo saved > /etc/marker");
        ok("stop", "src"); // cold: its last write may live only in the memory it was suspended with
        JsonNode saved = json(ok("image", "save", "src", "--name", "src-saved", "--json").stdout());
        assertThat(saved.path("source").asString()).isEqualTo("sandbox src");
        assertThat(json(ok("inspect", "src", "--json").stdout()).path("thermal").asString()).as("put back as it was").isEqualTo("cold");
        ok("create", "--name", "from-saved", "--image", "src-saved");
        assertThat(exec("from-saved", "busybox", "cat", "/etc/marker")).isEqualTo("saved\n");
        assertThat(cli("image", "save", "src", "--name", "src-saved").stderr()).contains("409");
        assertThat(cli("image", "save", "nosuch", "--name", "x").stderr()).contains("404");

        String alice = json(admin("user", "create", "--name", "alice", "--json").stdout()).path("api_key").asString();
        assertThat(as(alice, "image", "list").stdout()).doesNotContain("src-saved");
        assertThat(as(alice, "create", "--name", "a1", "--image", "src-saved").stderr()).contains("unknown image 'src-saved'");
        assertThat(admin("image", "share", "src-saved", "--user", "alice").stdout()).contains("image/src-saved is shared with alice");
        assertThat(as(alice, "image", "list").stdout()).containsPattern("src-saved\\s+sandbox src\\s+\\d+ MB\\s+admin \\(shared\\)");
        var a1 = as(alice, "create", "--name", "a1", "--image", "src-saved");
        assertThat(a1.exit()).as(a1.toString()).isZero();
        assertThat(as(alice, "exec", "a1", "--", "busybox", "cat", "/etc/marker").stdout()).isEqualTo("saved\n");
        assertThat(as(alice, "image", "delete", "-y", "src-saved").stderr()).contains("409").contains("not yours to delete");
        assertThat(admin("image", "unshare", "src-saved", "--user", "alice").stdout()).contains("shared with nobody");
        assertThat(as(alice, "image", "list").stdout()).doesNotContain("src-saved");
        assertThat(as(alice, "exec", "a1", "--", "busybox", "cat", "/etc/marker").stdout()).as("her sandbox keeps running").isEqualTo("saved\n");
        assertThat(admin("image", "share", "src-saved", "--user", "nobody").stderr()).contains("no user named nobody");

        // one storage limit for snapshots and images: a pull that cannot fit is refused before it writes
        String bob = json(admin("user", "create", "--name", "bob", "--max-storage", "1", "--json").stdout()).path("api_key").asString();
        var over = as(bob, "image", "pull", registry.reference("test/musl:1"));
        assertThat(over.exit()).isNotZero();
        assertThat(over.stderr()).contains("storage limit reached");
        assertThat(as(bob, "image", "list").stdout()).doesNotContain("musl");
        for (String sb : List.of("src", "from-saved")) ok("destroy", "-y", sb);
        as(alice, "destroy", "-y", "a1");
    }

    @Test
    void dockerSaveAndOciArchivesImportAndBadArchivesAreRefusedLeavingNothing() throws Exception {
        Path dockerSave = work.resolve("musl-docker.tar");
        LocalRegistry.run(List.of("skopeo", "copy", "--quiet", "oci:" + work.resolve("oci-musl") + ":latest",
                "docker-archive:" + dockerSave + ":test/musl:1"));
        JsonNode imported = json(ok("image", "import", "--tar", dockerSave.toString(), "--name", "imported", "--json").stdout());
        assertThat(imported.path("source").asString()).isEqualTo("import");
        Path ociArchive = work.resolve("musl-oci.tar");
        LocalRegistry.run(List.of("skopeo", "copy", "--quiet", "oci:" + work.resolve("oci-musl") + ":latest", "oci-archive:" + ociArchive + ":latest"));
        ok("image", "import", "--tar", ociArchive.toString(), "--name", "imported-oci");
        ok("create", "--name", "imp", "--image", "imported-oci");
        assertThat(exec("imp", "sh", "-c", "/lib/ld-musl-x86_64.so.1 2>&1 | head -1")).isEqualTo("musl libc (x86_64)\n");
        ok("destroy", "-y", "imp");

        byte[] whole = Files.readAllBytes(dockerSave);
        Path truncated = Files.write(work.resolve("truncated.tar"), java.util.Arrays.copyOf(whole, whole.length / 2));
        var cut = cli("image", "import", "--tar", truncated.toString(), "--name", "cut");
        assertThat(cut.exit()).isNotZero();
        assertThat(cut.stderr()).contains("400").contains("cannot import");
        Path junk = Files.writeString(work.resolve("junk.tar"), "this is no archive\n".repeat(100));
        assertThat(cli("image", "import", "--tar", junk.toString(), "--name", "junk").stderr()).contains("400").contains("not a tar archive");
        assertThat(cli("image", "import", "--tar", dockerSave.toString(), "--name", "imported").stderr()).contains("409");
        assertThat(ok("image", "list").stdout()).doesNotContain("cut").doesNotContain("junk");
        Path workDir = bhatti.dataDir().resolve("images/work");
        try (Stream<Path> left = Files.list(workDir)) {
            assertThat(left.toList()).as("nothing left of the refused archives").isEmpty();
        }
    }

    @Test
    void anImageImportsFromTheLocalDockerWhereThereIsOne() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(new ProcessBuilder("sh", "-c", "docker info >/dev/null 2>&1").start().waitFor() == 0,
                "no Docker daemon here");
        LocalRegistry.run(List.of("skopeo", "copy", "--quiet", "oci:" + work.resolve("oci-musl") + ":latest", "docker-daemon:bhatti-test/musl:1"));
        ok("image", "import", "bhatti-test/musl:1", "--name", "from-docker");
        assertThat(ok("image", "inspect", "from-docker").stdout()).contains("source:      import");
    }

    @Test
    void badPullsFailClearlyAndLeaveNothing() throws Exception {
        var unknown = cli("image", "pull", registry.reference("test/nope:1"));
        assertThat(unknown.exit()).isNotZero();
        assertThat(unknown.stderr()).contains("pull of").contains("failed").containsIgnoringCase("not found");
        var badTag = cli("image", "pull", registry.reference("test/musl:no-such-tag"));
        assertThat(badTag.exit()).isNotZero();
        assertThat(badTag.stderr()).containsIgnoringCase("not found");
        assertThat(ok("image", "list").stdout()).doesNotContain("nope").doesNotContain("no-such-tag");

        ok("image", "pull", registry.reference("test/musl:1"), "--name", "taken");
        var taken = cli("image", "pull", registry.reference("test/musl:1"), "--name", "taken");
        assertThat(taken.exit()).isNotZero();
        assertThat(taken.stderr()).contains("409").contains("you have an image named taken");
        var tierName = cli("image", "pull", registry.reference("test/musl:1"), "--name", "minimal");
        assertThat(tierName.stderr()).contains("minimal is a built-in image");
        var badName = cli("image", "pull", registry.reference("test/musl:1"), "--name", "Bad/Name");
        assertThat(badName.stderr()).contains("400").contains("an image name is");
        ok("image", "delete", "-y", "taken");
        assertThat(cli("image", "delete", "-y", "taken").stderr()).contains("404");
        assertThat(cli("image", "inspect", "nope").stderr()).contains("404").contains("image not found: nope");

        // what the failed pulls left: no rootfs, no partial file, no work tree
        Path images = bhatti.dataDir().resolve("images");
        try (Stream<Path> users = Files.list(Files.createDirectories(images.resolve("users")))) {
            assertThat(users.filter(p -> !p.getFileName().toString().equals(".versions")).map(p -> p.getFileName().toString())
                    .filter(n -> n.endsWith(".partial")).toList()).isEmpty();
        }
        if (Files.isDirectory(images.resolve("work"))) {
            try (Stream<Path> left = Files.list(images.resolve("work"))) {
                assertThat(left.toList()).as("work trees of finished pulls").isEmpty();
            }
        }
    }
}
