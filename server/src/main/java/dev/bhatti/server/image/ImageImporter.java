package dev.bhatti.server.image;

import dev.bhatti.server.image.layers.LayerExtractor.LayerException;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Imports an image from an archive streamed to it: {@code docker save} output (legacy, or the OCI
 * layout newer Docker writes) or an OCI layout archive (skopeo's oci-archive), plain or gzipped. The
 * archive is staged under {@code work} (never more than {@code maxBytes}), checked (every blob against
 * its digest) and its layers made a root filesystem as a pull's are. Whatever happens the staging and
 * the tree are gone afterwards; a failed import leaves no root filesystem either.
 */
public final class ImageImporter {

    /**
     * An imported image: the digest to show (the manifest's; for docker save, the config's), the names the
     * archive gives it (repo tags, ref names), its root filesystem and its config.
     */
    public record Imported(String digest, List<String> names, Path rootfs, long rootfsBytes, ImageConfig config) {
        public Imported {
            names = List.copyOf(names);
        }
    }

    private final Path work;
    private final long maxBytes;
    private final RootfsBuilder builder;

    /** {@code work}: where archives are staged and trees extracted; {@code maxBytes}: the largest (uncompressed) archive accepted. */
    public ImageImporter(Path work, long maxBytes) {
        this.work = work;
        this.maxBytes = maxBytes;
        this.builder = new RootfsBuilder(work);
    }

    /**
     * Imports the archive {@code body} (of any length: it is read to its end-of-archive marker) as a new ext4
     * file at {@code rootfs}. A failed import leaves nothing at {@code rootfs} and nothing under {@code work}.
     */
    public Imported importTar(InputStream body, Path rootfs, ImagePuller.Progress progress)
            throws ImportException, IOException, InterruptedException {
        try {
            return stageAndBuild(body, rootfs, progress);
        } catch (Exception e) {
            try {
                Files.deleteIfExists(rootfs);
            } catch (IOException d) {
                e.addSuppressed(d);
            }
            throw e;
        }
    }

    private Imported stageAndBuild(InputStream body, Path rootfs, ImagePuller.Progress progress)
            throws ImportException, IOException, InterruptedException {
        progress.phase("receiving the archive");
        try (ArchiveStaging archive = ArchiveStaging.receive(body, work, maxBytes)) {
            progress.phase("checking the image");
            ArchiveImage image = read(archive);
            long bytes = build(image, rootfs, progress);
            return new Imported(image.digest(), image.names(), rootfs, bytes, ImageConfig.of(image.config()));
        }
    }

    /** OCI first: where newer Docker writes both, the layout's blobs are the ones checked against digests. */
    private static ArchiveImage read(ArchiveStaging archive) throws ImportException, IOException {
        if (archive.has("index.json")) return OciLayout.read(archive);
        if (archive.has("manifest.json")) return DockerSave.read(archive);
        throw new ImportException("no manifest.json or index.json: not a docker save or OCI archive");
    }

    private long build(ArchiveImage image, Path rootfs, ImagePuller.Progress progress)
            throws ImportException, IOException, InterruptedException {
        try {
            return builder.build(image.layers(), rootfs, progress);
        } catch (LayerException e) {
            throw new ImportException("a layer cannot be applied: " + e.getMessage(), e);
        }
    }
}
