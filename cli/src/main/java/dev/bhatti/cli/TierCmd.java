package dev.bhatti.cli;

import dev.bhatti.images.TierBuilder;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/** Guest image tiers: build them locally. */
@Command(name = "tier", description = "Build guest image tiers.", mixinStandardHelpOptions = true,
        subcommands = {TierCmd.Build.class})
final class TierCmd {

    @Command(name = "build", description = "Build a tier's kernel, initramfs and root filesystem into DATA_DIR/images.",
            mixinStandardHelpOptions = true)
    static final class Build implements Callable<Integer> {
        @Parameters(paramLabel = "TIER", description = "Tier to build, e.g. minimal") String tier;
        @Option(names = "--data-dir", description = "Daemon data directory (default: data_dir of " + dev.bhatti.server.ServerConfig.SYSTEM_CONFIG + ", else /var/lib/bhatti)") Path dataDir = dev.bhatti.server.ServerConfig.installedDataDir();
        @Option(names = "--suite", description = "Debian/Ubuntu suite (default bookworm)") String suite;
        @Option(names = "--mirror", description = "Package mirror for the suite") String mirror;
        @Option(names = "--cache", description = "Download cache (default /var/cache/bhatti-build)") Path cache;
        @Option(names = "--force", description = "Rebuild even if the cached image matches") boolean force;
        @Option(names = "--json", description = "Print the result as JSON") boolean json;

        @Override
        public Integer call() throws Exception {
            Path images = dataDir.resolve("images");
            Files.createDirectories(images);
            boolean tty = !json && System.console() != null;
            long start = System.nanoTime();
            new TierBuilder().build(new TierBuilder.Options(tier, images, suite, mirror, cache, force),
                    p -> {
                        String line = String.format("[%d/%d] %s (%ds)", p.step(), p.total(), p.text(),
                                (System.nanoTime() - start) / 1_000_000_000L);
                        if (!json) System.err.println(tty ? "\u001b[1m" + line + "\u001b[0m" : line);
                    },
                    line -> { if (!json) System.err.println(line); });
            long seconds = (System.nanoTime() - start) / 1_000_000_000L;
            if (json) {
                System.out.printf("{\"tier\": \"%s\", \"images\": %s, \"seconds\": %d}%n", tier,
                        ApiClient.JSON.writeValueAsString(images.toAbsolutePath().toString()), seconds);
            } else {
                System.out.println("tier " + tier + " ready in " + images.toAbsolutePath() + " (" + seconds + " s)");
            }
            return 0;
        }
    }
}
