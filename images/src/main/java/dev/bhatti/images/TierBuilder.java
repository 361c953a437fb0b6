package dev.bhatti.images;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.function.Consumer;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Builds a guest image tier (kernel, initramfs, root filesystem with the agent) by running the
 * build script shipped inside this jar. The script does the Debian work; this class feeds it the
 * embedded agent jar and turns its {@code ==> [n/N] step} lines into progress events.
 */
public final class TierBuilder {

    private static final String RESOURCES = "/dev/bhatti/images/";
    private static final Pattern STEP = Pattern.compile("^==> \\[(\\d+)/(\\d+)] (.*)$");
    private static final Pattern TIER = Pattern.compile("[a-z0-9][a-z0-9_-]{0,31}");

    /** {@code cache} holds the reusable debootstrap and kernel downloads. */
    public record Options(String tier, Path outDir, String suite, String mirror, Path cache, boolean force) {}

    /** One step of the build: {@code step} of {@code total}, described by {@code text}. */
    public record Progress(int step, int total, String text) {}

    public static class BuildException extends Exception {
        public BuildException(String message) { super(message); }
    }

    /** Runs the build; returns normally only when the images are in place. */
    public void build(Options options, Consumer<Progress> progress, Consumer<String> log) throws BuildException, IOException, InterruptedException {
        if (!TIER.matcher(options.tier()).matches()) throw new BuildException("invalid tier name '" + options.tier() + "'");
        Path work = Files.createTempDirectory("bhatti-tier-");
        try {
            Path script = extract("build-tier.sh", work);
            if (!knownTiers().contains(options.tier())) {
                throw new BuildException("unknown tier '" + options.tier() + "'; known tiers: " + String.join(", ", knownTiers()));
            }
            // every tier's files: a tier builds on the ones it @extends
            for (String t : knownTiers()) {
                extract("tier-" + t + ".packages", work);
                extractIfPresent("tier-" + t + ".setup", work);
            }
            Path agent = extract("agent.jar", work);
            var cmd = new ArrayList<>(List.of("bash", script.toString(), "--tier", options.tier(),
                    "--out", options.outDir().toAbsolutePath().toString(), "--agent-jar", agent.toString(),
                    "--java-home", System.getProperty("java.home")));
            if (options.suite() != null) cmd.addAll(List.of("--suite", options.suite()));
            if (options.mirror() != null) cmd.addAll(List.of("--mirror", options.mirror()));
            if (options.cache() != null) cmd.addAll(List.of("--cache", options.cache().toAbsolutePath().toString()));
            if (options.force()) cmd.add("--force");
            Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
            p.getOutputStream().close();
            try (var reader = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = reader.readLine()) != null) {
                    var m = STEP.matcher(line);
                    if (m.matches()) {
                        progress.accept(new Progress(Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2)), m.group(3)));
                    } else {
                        log.accept(line);
                    }
                }
            }
            int code = p.waitFor();
            if (code != 0) throw new BuildException("image build failed (exit " + code + "); see the messages above");
        } finally {
            deleteTree(work);
        }
    }

    /** Tiers this jar can build, from the package lists it carries. */
    public static List<String> knownTiers() {
        var tiers = new ArrayList<String>();
        try (InputStream in = TierBuilder.class.getResourceAsStream(RESOURCES + "tiers.txt")) {
            if (in != null) {
                for (String t : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\\s+")) if (!t.isBlank()) tiers.add(t);
            }
        } catch (IOException e) {
            // no index: report none
        }
        return tiers;
    }

    private static Path extract(String name, Path dir) throws IOException, BuildException {
        if (!extractIfPresent(name, dir)) throw new BuildException("this bhatti jar lacks " + name + "; rebuild it with ./mvnw package");
        return dir.resolve(name);
    }

    private static boolean extractIfPresent(String name, Path dir) throws IOException {
        try (InputStream in = TierBuilder.class.getResourceAsStream(RESOURCES + name)) {
            if (in == null) return false;
            Files.copy(in, dir.resolve(name), StandardCopyOption.REPLACE_EXISTING);
            return true;
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        }
    }
}
