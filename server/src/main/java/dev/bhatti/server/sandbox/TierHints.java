package dev.bhatti.server.sandbox;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What a tier recommends a sandbox has: "@min-cpus N" and "@min-memory MB" in its tier-NAME.packages
 * (next to build-tier.sh on the classpath; a tier inherits them through "@extends"). A create below
 * them works, slowly, and is answered with a warning. Without the tier files (a server built without
 * the images module) there are no recommendations.
 */
public final class TierHints {
    static final String RESOURCES = "dev/bhatti/images/";
    private static final Pattern DIRECTIVE = Pattern.compile("^\\s*@([a-z-]+)\\s+([A-Za-z0-9_-]+)");
    private static final Pattern TIER = Pattern.compile("[a-z0-9][a-z0-9_-]{0,62}");

    /** A tier's recommended minimum (0: none). */
    public record Minimum(int cpus, int memoryMb) {
        static final Minimum NONE = new Minimum(0, 0);
    }

    private final ClassLoader loader;
    private final Map<String, Minimum> cache = new ConcurrentHashMap<>();

    public TierHints() { this(TierHints.class.getClassLoader()); }

    TierHints(ClassLoader loader) { this.loader = loader; }

    public Minimum minimum(String tier) {
        if (tier == null || !TIER.matcher(tier).matches()) return Minimum.NONE;
        return cache.computeIfAbsent(tier, t -> read(t, 0));
    }

    /** The warnings for a sandbox of {@code tier} with {@code cpus} and {@code memoryMb}; empty when it meets the minimum. */
    public List<String> warnings(String tier, int cpus, int memoryMb) {
        Minimum min = minimum(tier);
        var out = new ArrayList<String>();
        if (cpus < min.cpus()) {
            out.add("image " + tier + " recommends at least " + min.cpus() + " vCPUs (this sandbox has " + cpus
                    + "): it works, but slowly; create it with --cpus " + min.cpus() + " for a responsive one");
        }
        if (memoryMb < min.memoryMb()) {
            out.add("image " + tier + " recommends at least " + min.memoryMb() + " MB of memory (this sandbox has " + memoryMb
                    + " MB): it may run out; create it with --memory " + min.memoryMb());
        }
        return out;
    }

    private Minimum read(String tier, int depth) {
        if (depth > 8) return Minimum.NONE; // an @extends cycle: build-tier.sh refuses it anyway
        String text;
        try (InputStream in = loader.getResourceAsStream(RESOURCES + "tier-" + tier + ".packages")) {
            if (in == null) return Minimum.NONE;
            text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            return Minimum.NONE;
        }
        int cpus = -1, memory = -1;
        String parent = null;
        for (String line : text.split("\n")) {
            Matcher m = DIRECTIVE.matcher(line);
            if (!m.find()) continue;
            switch (m.group(1)) {
                case "min-cpus" -> cpus = number(m.group(2));
                case "min-memory" -> memory = number(m.group(2));
                case "extends" -> parent = m.group(2);
                default -> { }
            }
        }
        Minimum inherited = parent != null && TIER.matcher(parent).matches() ? read(parent, depth + 1) : Minimum.NONE;
        return new Minimum(cpus >= 0 ? cpus : inherited.cpus(), memory >= 0 ? memory : inherited.memoryMb());
    }

    private static int number(String s) {
        try {
            return Math.max(0, Integer.parseInt(s));
        } catch (NumberFormatException e) {
            return 0;
        }
    }
}
