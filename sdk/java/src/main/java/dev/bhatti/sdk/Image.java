package dev.bhatti.sdk;

import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * An image a sandbox can be created from: a tier, one of your images, or one shared with you.
 *
 * @param source  {@code tier}, or the registry reference it was pulled from
 * @param owner   the owning user's name; empty for tiers
 * @param config  from {@code get} only, else null
 * @param layers  from {@code get} only: the layers' uncompressed digests, bottom first
 */
public record Image(String name, String source, String owner, boolean shared, long sizeBytes, String digest, Instant createdAt,
                    Config config, List<String> layers) {
    public Image {
        layers = layers == null ? List.of() : List.copyOf(layers);
    }

    /** What the image says a process runs with. */
    public record Config(Map<String, String> env, String workdir, String user, List<String> entrypoint, List<String> cmd) {}
}
