package dev.bhatti.server.image;

import dev.bhatti.server.image.layers.LayerExtractor;
import dev.bhatti.server.image.rootfs.Ext4Image;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The tail of every pull and import: layer files applied in order onto a fresh tree under {@code work},
 * the tree made an ext4 file, the tree removed whatever happened.
 */
final class RootfsBuilder {
    private final Path work;

    RootfsBuilder(Path work) { this.work = work; }

    /** Builds {@code rootfs} from {@code layers}, bottom first; returns its size in bytes. A failed build leaves no file. */
    long build(List<Path> layers, Path rootfs, ImagePuller.Progress progress) throws IOException, InterruptedException {
        Files.createDirectories(work);
        Path tree = Files.createTempDirectory(work, "tree-");
        try {
            progress.phase("unpacking " + layers.size() + " layers");
            for (Path layer : layers) LayerExtractor.apply(layer, tree);
            progress.phase("making the root filesystem");
            return Ext4Image.build(tree, rootfs);
        } finally {
            Trees.delete(tree);
        }
    }
}
