package dev.bhatti.server.image;

import dev.bhatti.server.image.ArchiveStaging.Staged;
import tools.jackson.databind.JsonNode;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static dev.bhatti.server.image.ArchiveNames.shown;

/**
 * A {@code docker save} archive (and skopeo's docker-archive, crane's tarball): {@code manifest.json}
 * names the config file and the layer files. A file named by a digest must hold it; a layer named
 * otherwise (docker's legacy {@code <id>/layer.tar}) must match its config's {@code diff_ids}, the
 * digest of its uncompressed tar, which docker writes.
 */
final class DockerSave {
    private static final Pattern DIGEST_NAME = Pattern.compile("(?:blobs/sha256/|sha256:)?([a-f0-9]{64})(?:\\.json|\\.tar|\\.tar\\.gz)?");

    private DockerSave() {}

    static ArchiveImage read(ArchiveStaging archive) throws ImportException, IOException {
        JsonNode images = archive.json(archive.require("manifest.json", "manifest.json"), "manifest.json");
        if (!images.isArray() || images.size() != 1) {
            throw new ImportException("manifest.json lists " + (images.isArray() ? images.size() : 0) + " images; import one at a time");
        }
        JsonNode image = images.get(0);
        String configName = image.path("Config").asString("");
        String configWhat = "the config " + shown(configName);
        Staged configFile = archive.require(configName, configWhat);
        var named = digestIn(configName);
        if (named.isPresent()) verify(configFile, named.get(), configWhat);
        JsonNode config = archive.json(configFile, configWhat);
        List<String> diffIds = strings(config.path("rootfs").path("diff_ids"));
        List<Path> layers = new ArrayList<>();
        for (String name : strings(image.path("Layers"))) {
            int index = layers.size();
            String what = "layer " + (index + 1) + " (" + shown(name) + ")";
            Staged layer = archive.require(name, what);
            String expected = digestIn(name).orElse(index < diffIds.size() ? diffIds.get(index) : null);
            if (expected == null) throw new ImportException(what + " cannot be checked: its config lists " + diffIds.size() + " diff_ids");
            verify(layer, expected, what);
            layers.add(layer.file());
        }
        if (layers.isEmpty()) throw new ImportException("manifest.json lists no layers");
        return new ArchiveImage("sha256:" + configFile.sha256(), strings(image.path("RepoTags")), config, layers);
    }

    /** The digest a file's name says it holds, if it is named by one. */
    private static Optional<String> digestIn(String name) {
        Matcher m = DIGEST_NAME.matcher(name);
        return m.matches() ? Optional.of("sha256:" + m.group(1)) : Optional.empty();
    }

    private static void verify(Staged file, String expected, String what) throws ImportException {
        String actual = "sha256:" + file.sha256();
        if (!expected.equals(actual)) {
            throw new ImportException(what + " digest mismatch: expected " + shown(expected) + ", the archive's file is " + actual);
        }
    }

    private static List<String> strings(JsonNode array) {
        var out = new ArrayList<String>();
        for (JsonNode s : array) out.add(s.asString(""));
        return out;
    }
}
