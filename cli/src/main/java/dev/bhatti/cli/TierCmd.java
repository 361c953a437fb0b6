package dev.bhatti.cli;

import dev.bhatti.images.TierBuilder;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Files;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/** Guest image tiers: build them locally. */
@Command(name = "tier", description = "Build guest image tiers.", mixinStandardHelpOptions = true,
        subcommands = {TierCmd.Build.class})
final class TierCmd {

    @Command(name = "build", description = {"Build tiers' kernel, initramfs and root filesystem into DATA_DIR/images.",
            "A tier is cached by the hash of its inputs: an unchanged one is up to date in seconds. A tier that extends",
            "another reuses that one's cached layer. Two builds of one data directory run one after the other."},
            mixinStandardHelpOptions = true)
    static final class Build implements Callable<Integer> {
        @Parameters(paramLabel = "TIER", arity = "1..*", description = "Tiers to build (minimal, browser, docker, computer), or all") List<String> tiers;
        @Option(names = "--data-dir", description = "Daemon data directory (default: data_dir of " + dev.bhatti.server.ServerConfig.SYSTEM_CONFIG + ", else /var/lib/bhatti)") Path dataDir = dev.bhatti.server.ServerConfig.installedDataDir();
        @Option(names = "--suite", description = "Debian/Ubuntu suite (default bookworm)") String suite;
        @Option(names = "--mirror", description = "Package mirror for the suite") String mirror;
        @Option(names = "--cache", description = "Download cache (default /var/cache/bhatti-build)") Path cache;
        @Option(names = "--force", description = "Rebuild even if the cached image matches") boolean force;
        @Option(names = "--json", description = "Print the result as JSON") boolean json;

        @Override
        public Integer call() throws Exception {
            List<String> known = TierBuilder.knownTiers();
            var wanted = new LinkedHashSet<String>();
            for (String t : tiers) {
                if (t.equals("all")) wanted.addAll(known);
                else if (known.contains(t)) wanted.add(t);
                else throw new TierBuilder.BuildException("unknown tier '" + t + "'; known tiers: " + String.join(", ", known) + " (or all)");
            }
            Path images = dataDir.resolve("images");
            Files.createDirectories(images);
            boolean tty = !json && System.console() != null;
            var results = new ArrayList<Map<String, Object>>();
            for (String tier : wanted) {
                long start = System.nanoTime();
                new TierBuilder().build(new TierBuilder.Options(tier, images, suite, mirror, cache, force),
                        p -> {
                            String line = String.format("%s [%d/%d] %s (%ds)", tier, p.step(), p.total(), p.text(),
                                    (System.nanoTime() - start) / 1_000_000_000L);
                            if (!json) System.err.println(tty ? "\u001b[1m" + line + "\u001b[0m" : line);
                        },
                        line -> { if (!json) System.err.println(line); });
                long seconds = (System.nanoTime() - start) / 1_000_000_000L;
                var r = new LinkedHashMap<String, Object>();
                r.put("tier", tier);
                r.put("images", images.toAbsolutePath().toString());
                r.put("seconds", seconds);
                results.add(r);
                if (!json) System.out.printf("tier %s ready in %s (%d s)%n", tier, images.toAbsolutePath(), seconds);
            }
            if (json) System.out.println(ApiClient.JSON.writeValueAsString(results.size() == 1 ? results.getFirst() : results));
            return 0;
        }

    }
}
