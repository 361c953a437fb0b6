package dev.bhatti.server.image.registry;

import java.util.List;

/** One platform's image: its config blob and its layers, bottom first; {@code digest} is the manifest's own. */
public record Manifest(String mediaType, String digest, Descriptor config, List<Descriptor> layers) {
    public Manifest {
        layers = List.copyOf(layers);
    }

    public long size() { return layers.stream().mapToLong(Descriptor::size).sum(); }
}
