package dev.bhatti.server.image;

import tools.jackson.databind.JsonNode;

import java.nio.file.Path;
import java.util.List;

/**
 * What an archive holds, checked: the digest to show for it, the names it gives itself, its config and
 * its layer files, bottom first.
 */
record ArchiveImage(String digest, List<String> names, JsonNode config, List<Path> layers) {
    ArchiveImage {
        names = List.copyOf(names);
        layers = List.copyOf(layers);
    }
}
