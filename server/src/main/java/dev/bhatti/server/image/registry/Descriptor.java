package dev.bhatti.server.image.registry;

import java.util.regex.Pattern;

/** A content-addressed reference to a manifest, a config or a layer. */
public record Descriptor(String mediaType, String digest, long size) {
    private static final Pattern DIGEST = Pattern.compile("sha256:[a-f0-9]{64}");

    public Descriptor {
        if (digest == null || !DIGEST.matcher(digest).matches()) throw new IllegalArgumentException("not a sha256 digest: " + digest);
        if (size < 0) throw new IllegalArgumentException("negative size for " + digest);
    }
}
