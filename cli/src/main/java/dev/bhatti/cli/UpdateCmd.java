package dev.bhatti.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Stream;

/**
 * Installs a newer bundle (or one made from a checkout) over this installation by running that bundle's
 * installer: the daemon restarts and adopts the running VMs, so sandboxes keep their state.
 */
@Command(name = "update", mixinStandardHelpOptions = true,
        description = {"Update this installation (run on the server, as root) from a release bundle or a checkout.",
                "The daemon restarts; hot, warm and cold sandboxes keep their state. Without --bundle or --source, "
                        + "rebuilds from the checkout scripts/install.sh installed from."})
final class UpdateCmd implements Callable<Integer> {
    @Option(names = "--bundle", paramLabel = "FILE", description = "A bundle made by scripts/package.sh (checked against FILE.sha256 when present)")
    Path bundle;

    @Option(names = "--source", paramLabel = "DIR", description = "A checkout to make the bundle from")
    Path source;

    @Option(names = "--tiers", paramLabel = "LIST|all", description = "Also build these guest image tiers")
    String tiers;

    @Option(names = "--cli-only", description = "Only the CLI (a client machine): no service, config or tiers")
    boolean cliOnly;

    @Option(names = "--force", description = "Also across a major version (back up first: bhatti admin backup)")
    boolean force;

    @Override
    public Integer call() throws Exception {
        Map<String, String> env = System.getenv();
        String home = env.get("BHATTI_HOME");
        if (home == null || home.isBlank()) {
            throw new CliException("this bhatti is not an installed one (it runs from a checkout): install it with sudo scripts/install.sh");
        }
        Path prefix = Path.of(home);
        if (!prefix.endsWith(Path.of("opt", "bhatti"))) throw new CliException("unexpected installation directory " + prefix + " (want .../opt/bhatti)");
        String root = prefix.getParent().getParent().toString();
        if (root.equals("/")) root = "";
        if (!isRoot()) throw new CliException("bhatti update needs root (it replaces /opt/bhatti and restarts the service): run it with sudo");
        if (bundle != null && source != null) throw new CliException("give --bundle or --source, not both");

        Path work = Files.createTempDirectory("bhatti-update");
        try {
            Path archive = bundle != null ? checked(bundle) : fromCheckout(source != null ? source : recordedSource(prefix), work);
            Path installer = unpack(archive, work);
            var cmd = new ArrayList<>(List.of(installer.toString(), "--update", "--tier", "none"));
            if (!root.isEmpty()) cmd.addAll(List.of("--root", root));
            if (tiers != null) cmd.addAll(List.of("--tiers", tiers));
            if (cliOnly) cmd.add("--cli-only");
            if (force) cmd.add("--force");
            return run(cmd, null);
        } finally {
            try (Stream<Path> all = Files.walk(work)) {
                all.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    private static boolean isRoot() throws IOException {
        return ((Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid")) == 0;
    }

    /** The bundle, verified against its .sha256 file when one lies beside it. */
    private static Path checked(Path archive) throws Exception {
        if (!Files.isRegularFile(archive)) throw new CliException("no bundle at " + archive + " (make one with scripts/package.sh)");
        Path sum = archive.resolveSibling(archive.getFileName() + ".sha256");
        if (Files.exists(sum)) {
            String want = Files.readString(sum).strip().split("\\s+")[0];
            var digest = MessageDigest.getInstance("SHA-256");
            try (var in = Files.newInputStream(archive)) {
                byte[] buf = new byte[1 << 16];
                for (int n; (n = in.read(buf)) > 0; ) digest.update(buf, 0, n);
            }
            String have = HexFormat.of().formatHex(digest.digest());
            if (!have.equalsIgnoreCase(want)) {
                throw new CliException(archive + " does not match " + sum + " (sha256 " + have + "): the download is damaged or altered");
            }
        }
        return archive;
    }

    private static Path recordedSource(Path prefix) throws Exception {
        Path recorded = prefix.resolve("lib/source");
        if (!Files.isReadable(recorded)) {
            throw new CliException("no newer release given: bhatti update --bundle bhatti-X.Y.Z-linux-amd64.tar.gz "
                    + "(from scripts/package.sh), or --source <checkout>");
        }
        return Path.of(Files.readString(recorded).strip());
    }

    /** Makes the bundle from a checkout with its own scripts/package.sh. */
    private static Path fromCheckout(Path checkout, Path work) throws Exception {
        Path script = checkout.resolve("scripts/package.sh");
        if (!Files.isExecutable(script)) throw new CliException(checkout + " is not a bhatti checkout (no scripts/package.sh)");
        System.err.println("==> making the bundle from " + checkout);
        Path out = work.resolve("out");
        int code = run(List.of(script.toString(), "--out", out.toString()), null);
        if (code != 0) throw new CliException("scripts/package.sh failed (exit " + code + ")");
        try (Stream<Path> files = Files.list(out)) {
            return files.filter(p -> p.toString().endsWith(".tar.gz")).findFirst()
                    .orElseThrow(() -> new CliException("scripts/package.sh made no bundle in " + out));
        }
    }

    /** Unpacks the bundle; its one top directory must hold install.sh and VERSION. */
    private static Path unpack(Path archive, Path work) throws Exception {
        Path dir = Files.createDirectory(work.resolve("bundle"));
        int code = run(List.of("tar", "-C", dir.toString(), "--no-same-owner", "-xzf", archive.toString()), null);
        if (code != 0) throw new CliException(archive + " is not a bundle (tar exit " + code + ")");
        try (Stream<Path> top = Files.list(dir)) {
            var tops = top.toList();
            if (tops.size() != 1 || !Files.isExecutable(tops.getFirst().resolve("install.sh"))
                    || !Files.isRegularFile(tops.getFirst().resolve("VERSION"))) {
                throw new CliException(archive + " is not a bhatti bundle (want one directory with install.sh and VERSION)");
            }
            return tops.getFirst().resolve("install.sh");
        }
    }

    private static int run(List<String> cmd, Path dir) throws IOException, InterruptedException {
        var pb = new ProcessBuilder(cmd).inheritIO();
        if (dir != null) pb.directory(dir.toFile());
        return pb.start().waitFor();
    }
}
