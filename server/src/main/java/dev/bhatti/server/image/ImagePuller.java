package dev.bhatti.server.image;

import dev.bhatti.server.image.registry.Descriptor;
import dev.bhatti.server.image.registry.ImageReference;
import dev.bhatti.server.image.registry.Manifest;
import dev.bhatti.server.image.registry.RegistryClient;
import dev.bhatti.server.image.registry.RegistryException;
import tools.jackson.databind.JsonNode;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Pulls an image to a bootable root filesystem: its manifest for the host's platform, its config and
 * layers into a content-addressed cache shared by all pulls (a second pull of a digest costs nothing,
 * an interrupted one resumes), the layers applied in order onto a fresh tree, and the tree made an ext4
 * file. The image's config (env, working directory, user, entrypoint, command) comes back with it.
 */
public final class ImagePuller {

    /** How far a pull has come: bytes of each layer, in manifest order. */
    public interface Progress {
        /** The layers' sizes, once the manifest is known. */
        default void layers(long[] sizes) { }

        void layer(int index, Descriptor layer, long done);

        void phase(String what);

        Progress NONE = new Progress() {
            @Override public void layer(int index, Descriptor layer, long done) { }
            @Override public void phase(String what) { }
        };
    }

    /** A pulled image: its root filesystem and what its config says. */
    public record Pulled(ImageReference reference, String manifestDigest, Path rootfs, long rootfsBytes, ImageConfig config) {}

    private final Path blobs;
    private final RootfsBuilder builder;

    /** {@code blobs}: the shared blob cache; {@code work}: where trees are extracted (removed after each pull). */
    public ImagePuller(Path blobs, Path work) {
        this.blobs = blobs;
        this.builder = new RootfsBuilder(work);
    }

    public Pulled pull(RegistryClient registry, ImageReference ref, RegistryClient.Platform platform, Path rootfs, Progress progress)
            throws RegistryException, IOException, InterruptedException {
        progress.phase("resolving " + ref);
        Manifest m = registry.manifest(ref, platform);
        progress.layers(m.layers().stream().mapToLong(Descriptor::size).toArray());
        Files.createDirectories(blobs);
        JsonNode config = registry.config(ref, m, blob(m.config()));
        List<Path> layers = new ArrayList<>();
        for (int i = 0; i < m.layers().size(); i++) {
            Descriptor d = m.layers().get(i);
            Path file = blob(d);
            int index = i;
            if (!Files.exists(file)) registry.blob(ref, d, file, done -> progress.layer(index, d, done));
            progress.layer(index, d, d.size());
            layers.add(file);
        }
        long bytes = builder.build(layers, rootfs, progress);
        return new Pulled(ref, m.digest(), rootfs, bytes, ImageConfig.of(config));
    }

    private Path blob(Descriptor d) { return blobs.resolve(d.digest().replace(':', '-')); }
}
