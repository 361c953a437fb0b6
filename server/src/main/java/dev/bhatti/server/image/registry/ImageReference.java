package dev.bhatti.server.image.registry;

import java.util.Locale;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * What a user names to pull: {@code [registry[:port]/]repository[:tag][@digest]}, read the way Docker
 * reads it: no registry means Docker Hub, a one-part Hub name lives under {@code library/}, no tag and no
 * digest means {@code latest}. The first part is a registry when it has a dot or a port, or is
 * {@code localhost}.
 */
public record ImageReference(String registry, String repository, String tag, Optional<String> digest) {
    public static final String DOCKER_HUB = "registry-1.docker.io";

    private static final Pattern COMPONENT = Pattern.compile("[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*");
    private static final Pattern TAG = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}");
    private static final Pattern DIGEST = Pattern.compile("sha256:[a-f0-9]{64}");
    private static final Pattern HOST = Pattern.compile("[A-Za-z0-9.-]+(?::[0-9]{1,5})?|\\[[0-9A-Fa-f:]+\\](?::[0-9]{1,5})?");

    /** Parses {@code name}; the message of a refusal says what is wrong with it. */
    public static ImageReference parse(String name) {
        if (name == null || name.isBlank() || name.length() > 512) throw new IllegalArgumentException("an image name is required (at most 512 characters)");
        String rest = name.strip();
        Optional<String> digest = Optional.empty();
        int at = rest.indexOf('@');
        if (at >= 0) {
            String d = rest.substring(at + 1);
            if (!DIGEST.matcher(d).matches()) throw new IllegalArgumentException("the digest must be sha256: and 64 hex digits, got '" + d + "'");
            digest = Optional.of(d);
            rest = rest.substring(0, at);
        }
        String registry = DOCKER_HUB;
        int slash = rest.indexOf('/');
        if (slash > 0) {
            String first = rest.substring(0, slash);
            if (first.contains(".") || first.contains(":") || first.equals("localhost")) {
                if (!HOST.matcher(first).matches()) throw new IllegalArgumentException("bad registry host '" + first + "'");
                registry = first.equals("docker.io") || first.equals("index.docker.io") ? DOCKER_HUB : first;
                rest = rest.substring(slash + 1);
            }
        }
        String tag = null;
        int colon = rest.lastIndexOf(':');
        if (colon >= 0) {
            tag = rest.substring(colon + 1);
            rest = rest.substring(0, colon);
            if (!TAG.matcher(tag).matches()) throw new IllegalArgumentException("bad tag '" + tag + "'");
        }
        if (rest.isEmpty()) throw new IllegalArgumentException("the image name has no repository");
        for (String component : rest.split("/", -1)) {
            if (!COMPONENT.matcher(component).matches()) {
                throw new IllegalArgumentException("bad repository name '" + rest + "': lowercase letters, digits and . _ - separators only");
            }
        }
        if (registry.equals(DOCKER_HUB) && !rest.contains("/")) rest = "library/" + rest;
        if (tag == null) tag = digest.isPresent() ? "" : "latest";
        return new ImageReference(registry.toLowerCase(Locale.ROOT), rest, tag, digest);
    }

    /** What the registry is asked for: the digest when there is one, else the tag. */
    public String manifestReference() { return digest.orElse(tag); }

    @Override
    public String toString() {
        String host = registry.equals(DOCKER_HUB) ? "docker.io" : registry;
        return host + "/" + repository + (tag.isEmpty() ? "" : ":" + tag) + digest.map(d -> "@" + d).orElse("");
    }
}
