package dev.bhatti.bench;

import dev.bhatti.testkit.LocalRegistry;
import dev.bhatti.testkit.OciImage;
import tools.jackson.databind.JsonNode;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Images: pulls from a local registry (Debian's docker-registry on loopback) with the layers not yet in the
 * blob cache and with them cached (the difference is the download, the rest the conversion), create to
 * first exec from a pulled image next to the tier's, and image save of a hot sandbox. The test images
 * are the tier build's Debian tree plus a layer of random bytes, to the sizes named.
 */
final class ImageSection implements Section {
    static final String SECTION = "images";
    private static final Path DEBOOTSTRAP_CACHE = Path.of("/var/cache/bhatti-build/rootfs");
    /** The pulled image the create and save runs boot (kept; the others are deleted as they are measured). */
    private static final String BOOTED = "bench-100-cached-0";

    @Override public String title() { return "image pull (local registry, layers cold and cached), create from an image, image save"; }

    /** Why the section cannot run here, or null. */
    static String missing(Options o) {
        if (o.dataDir == null) return "the daemon's --data-dir (to empty its blob cache)";
        for (String tool : List.of("docker-registry", "skopeo")) {
            if (!HostFacts.onPath(tool)) return tool + " (scripts/install-deps.sh installs it)";
        }
        return debootstrapTree() == null ? "the tier build's debootstrap cache in " + DEBOOTSTRAP_CACHE : null;
    }

    @Override
    public void run(Context ctx) throws Exception {
        Options o = ctx.opt();
        String why = missing(o);
        if (why != null) {
            ctx.results().note("images section skipped: it needs " + why);
            System.out.println("  skipped: needs " + why);
            return;
        }
        Path work = Files.createTempDirectory("bhatti-bench-images");
        try (var registry = new LocalRegistry(Files.createDirectories(work.resolve("registry")))) {
            for (int mb : o.quick ? List.of(100) : List.of(100, 500)) pulls(ctx, registry, work, mb);
            createAndSave(ctx);
        } finally {
            deleteTree(work);
        }
        ctx.results().print(SECTION);
    }

    /** An image of about {@code mb} MB compressed: the Debian tree (about 70 MB) and a layer of random bytes. */
    private static String push(LocalRegistry registry, Path work, int mb) throws Exception {
        Path tree = Files.createDirectories(work.resolve("random-" + mb + "/data"));
        long randomBytes = Math.max(1, mb - Files.size(debootstrapTree()) / (1 << 20)) << 20;
        try (OutputStream out = Files.newOutputStream(tree.resolve("blob"))) {
            var random = new SecureRandom();
            byte[] buf = new byte[1 << 20];
            for (long left = randomBytes; left > 0; left -= buf.length) {
                random.nextBytes(buf);
                out.write(buf, 0, (int) Math.min(buf.length, left));
            }
        }
        Path layer = OciImage.tarGz(tree.getParent(), work.resolve("random-" + mb + ".tar.gz"));
        String repo = "bench/debian-" + mb + ":1";
        registry.push(OciImage.layout(work.resolve("oci-" + mb), "{\"Env\":[\"PATH=/usr/local/bin:/usr/bin:/bin\"]}",
                List.of(debootstrapTree(), layer)), repo);
        return registry.reference(repo);
    }

    private void pulls(Context ctx, LocalRegistry registry, Path work, int mb) throws Exception {
        Options o = ctx.opt();
        String ref = push(registry, work, mb);
        long compressed = 0;
        try (Stream<Path> blobs = Files.list(work.resolve("oci-" + mb + "/blobs/sha256"))) {
            for (Path b : blobs.toList()) compressed += Files.size(b);
        }
        String cold = String.format(Locale.ROOT, "pull ~%d MB image, layers not cached", mb);
        String cached = String.format(Locale.ROOT, "pull ~%d MB image, layers cached (conversion)", mb);
        Samples coldSamples = ctx.results().add(SECTION, cold, null);
        Samples cachedSamples = ctx.results().add(SECTION, cached, cold);
        int n = o.quick ? 1 : 3;
        for (int i = 0; i < n; i++) {
            deleteTree(o.dataDir.resolve("images/blobs"));
            coldSamples.add(pull(ctx.api(), ref, "bench-" + mb + "-cold-" + i));
            ctx.api().ok("DELETE", "/images/bench-" + mb + "-cold-" + i, null);
            String name = "bench-" + mb + "-cached-" + i;
            cachedSamples.add(pull(ctx.api(), ref, name));
            if (!name.equals(BOOTED)) ctx.api().ok("DELETE", "/images/" + name, null);
        }
        double downloadMs = coldSamples.p50() - cachedSamples.p50(); // percentiles are in ms
        // a difference lost in the pulls' own spread says nothing about the download but that it is short
        if (downloadMs < coldSamples.p50() * 0.05) {
            ctx.results().note(String.format(Locale.ROOT, "~%d MB image (%d MB compressed): download from loopback within the noise of the conversion (p50 cold minus cached %.0f ms)",
                    mb, compressed >> 20, downloadMs));
        } else {
            ctx.results().note(String.format(Locale.ROOT, "~%d MB image (%d MB compressed): download %.0f MB/s from loopback (p50 cold minus cached)",
                    mb, compressed >> 20, (compressed / 1048576.0) / (downloadMs / 1000)));
        }
    }

    /** Pulls {@code ref} as {@code name} and waits for its task; returns the wall time of the pull. */
    private static long pull(Api api, String ref, String name) throws Exception {
        long t0 = System.nanoTime();
        JsonNode task = api.ok("POST", "/images/pull", "{\"reference\":\"" + ref + "\",\"name\":\"" + name + "\"}").json();
        String id = task.path("id").asString();
        while (task.path("state").asString().equals("running")) {
            if (System.nanoTime() - t0 > TimeUnit.MINUTES.toNanos(10)) throw new BenchFailure("pull of " + ref + " did not end in 10 minutes");
            Thread.sleep(20); // polling the server's task
            task = api.ok("GET", "/tasks/" + id, null).json();
        }
        long elapsed = System.nanoTime() - t0;
        if (!task.path("state").asString().equals("done")) throw new BenchFailure("pull of " + ref + ": " + task);
        System.out.printf(Locale.ROOT, "  pull %s: %.0f ms%n", name, elapsed / 1e6);
        return elapsed;
    }

    /** Create to first exec from the ~100 MB image (next to the tier's), then image save of a hot sandbox with data written. */
    private void createAndSave(Context ctx) throws Exception {
        Options o = ctx.opt();
        Api api = ctx.api();
        Samples first = ctx.results().add(SECTION, "create to first exec, pulled image (first of its kind: boots)", FloorSection.BOOT_EXEC);
        Samples save = ctx.results().add(SECTION, String.format(Locale.ROOT, "image save, hot sandbox with %d MB written", o.quick ? 64 : 512), null);
        int n = o.quick ? 1 : 3;
        for (int i = 0; i < n; i++) {
            long t0 = System.nanoTime();
            JsonNode created = api.ok("POST", "/sandboxes", "{\"name\":\"" + ctx.name("img" + i) + "\",\"image\":\"" + BOOTED + "\","
                    + "\"cpus\":" + o.cpus + ",\"memory_mb\":" + o.memoryMb + "}").json();
            String id = created.path("id").asString();
            api.execTrue(id);
            first.add(System.nanoTime() - t0);
            api.execOk(id, List.of("sh", "-c", "head -c " + (o.quick ? 64 : 512) + "M /dev/urandom > /workspace/data"));
            save.add(Timer.time(() -> api.ok("POST", "/sandboxes/" + id + "/save-image", "{\"name\":\"bench-saved-" + id + "\"}")));
            api.ok("DELETE", "/images/bench-saved-" + id, null);
            api.destroy(id);
        }
    }

    private static Path debootstrapTree() {
        if (!Files.isDirectory(DEBOOTSTRAP_CACHE)) return null;
        try (Stream<Path> files = Files.list(DEBOOTSTRAP_CACHE)) {
            return files.filter(p -> p.getFileName().toString().matches("debootstrap-.*\\.tar\\.zst"))
                    .max(Comparator.comparing(p -> p.toFile().lastModified())).orElse(null);
        } catch (IOException e) {
            return null;
        }
    }

    private static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root)) return;
        try (Stream<Path> all = Files.walk(root)) {
            for (Path p : all.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        }
    }
}
