package dev.bhatti.server.image;

import dev.bhatti.server.image.ArchiveStaging.Staged;
import dev.bhatti.server.image.registry.Descriptor;
import dev.bhatti.server.image.registry.RegistryClient.Platform;
import tools.jackson.databind.JsonNode;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static dev.bhatti.server.image.ArchiveNames.shown;

/**
 * An OCI image layout (skopeo's oci-archive, and newer {@code docker save}): {@code index.json} leads,
 * through nested indexes resolved to the host's platform, to one manifest, its config and its layers in
 * {@code blobs/sha256/}; every blob must hold its digest and size.
 */
final class OciLayout {
    private static final int MAX_DEPTH = 4;
    private static final String NAME = "io.containerd.image.name";
    private static final String REF_NAME = "org.opencontainers.image.ref.name";

    private OciLayout() {}

    static ArchiveImage read(ArchiveStaging archive) throws ImportException, IOException {
        JsonNode entry = pick(archive.json(archive.require("index.json", "index.json"), "index.json"), "index.json");
        JsonNode annotations = entry.path("annotations");
        String name = annotations.path(NAME).asString(annotations.path(REF_NAME).asString(""));
        List<String> names = name.isEmpty() ? List.of() : List.of(name);
        for (int depth = 0; depth < MAX_DEPTH; depth++) {
            Descriptor d = descriptor(entry, "the manifest");
            JsonNode json = archive.json(blob(archive, d, "the manifest"), "the manifest " + d.digest());
            if (!json.has("manifests")) return image(archive, d, json, names);
            entry = pick(json, "the index " + d.digest());
        }
        throw new ImportException("the archive's indexes nest deeper than " + MAX_DEPTH);
    }

    private static ArchiveImage image(ArchiveStaging archive, Descriptor manifest, JsonNode json, List<String> names)
            throws ImportException, IOException {
        Descriptor configDescriptor = descriptor(json.path("config"), "the config");
        JsonNode config = archive.json(blob(archive, configDescriptor, "the config"), "the config " + configDescriptor.digest());
        List<Path> layers = new ArrayList<>();
        for (JsonNode l : json.path("layers")) {
            String what = "layer " + (layers.size() + 1);
            layers.add(blob(archive, descriptor(l, what), what).file());
        }
        if (layers.isEmpty()) throw new ImportException("the manifest " + manifest.digest() + " has no layers");
        return new ArchiveImage(manifest.digest(), names, config, layers);
    }

    /** The one image of an index: its only one, or the only one for the host's platform (tags of one digest are one image). */
    private static JsonNode pick(JsonNode index, String where) throws ImportException {
        var all = new ArrayList<JsonNode>();
        index.path("manifests").forEach(all::add);
        if (all.isEmpty()) throw new ImportException(where + " lists no images");
        List<JsonNode> host = all.stream().filter(OciLayout::forHost).toList();
        List<JsonNode> candidates = host.isEmpty() ? all : host;
        if (candidates.stream().map(m -> m.path("digest").asString("")).distinct().count() == 1) return candidates.getFirst();
        if (host.isEmpty() && all.stream().anyMatch(m -> m.has("platform"))) {
            throw new ImportException(where + " has no image for " + Platform.HOST + " (it has: "
                    + String.join(", ", all.stream().map(OciLayout::platform).toList()) + ")");
        }
        throw new ImportException(where + " lists " + candidates.size() + " images; import one at a time");
    }

    private static boolean forHost(JsonNode m) {
        JsonNode p = m.path("platform");
        return p.path("os").asString("").equals(Platform.HOST.os()) && p.path("architecture").asString("").equals(Platform.HOST.architecture());
    }

    private static String platform(JsonNode m) {
        JsonNode p = m.path("platform");
        return shown(p.path("os").asString("?") + "/" + p.path("architecture").asString("?"));
    }

    private static Descriptor descriptor(JsonNode d, String what) throws ImportException {
        try {
            return new Descriptor(d.path("mediaType").asString(""), d.path("digest").asString(""), d.path("size").asLong(-1));
        } catch (IllegalArgumentException e) {
            throw new ImportException("the descriptor of " + what + " is malformed: " + shown(e.getMessage()));
        }
    }

    /** The blob {@code d} names, checked against its digest and size. */
    private static Staged blob(ArchiveStaging archive, Descriptor d, String what) throws ImportException {
        String hex = d.digest().substring("sha256:".length());
        Staged f = archive.require("blobs/sha256/" + hex, what + " " + d.digest());
        if (!f.sha256().equals(hex)) {
            throw new ImportException(what + " " + d.digest() + " digest mismatch: the archive's blob is sha256:" + f.sha256());
        }
        if (f.size() != d.size()) {
            throw new ImportException(what + " " + d.digest() + " is " + f.size() + " bytes, its descriptor says " + d.size());
        }
        return f;
    }
}
