package dev.bhatti.server.image;

import dev.bhatti.server.image.registry.Descriptor;
import dev.bhatti.testkit.LocalRegistry;
import dev.bhatti.testkit.OciImage;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.SequenceInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Imports of real archives written by skopeo (docker save format and OCI archives), and of broken ones. */
class ImageImporterTest {
    private static final long MAX = 64L << 20;

    @TempDir static Path images;
    static Path layout;
    static Path dockerArchive;
    static Path ociArchive;

    @TempDir Path dir;

    @BeforeAll
    static void archives() throws Exception {
        Path tree = Files.createDirectories(images.resolve("tree"));
        Files.createDirectories(tree.resolve("etc"));
        Files.createDirectories(tree.resolve("srv"));
        Files.writeString(tree.resolve("etc/os-release"), "ID=imported\n");
        Files.writeString(tree.resolve("srv/app.sh"), "echo hi\n");
        Path layer = OciImage.tarGz(tree, images.resolve("layer.tar.gz"));
        layout = OciImage.layout(images.resolve("oci"), """
                {"Env":["PATH=/usr/bin:/bin","GREETING=hi"],"WorkingDir":"/srv"}""", List.of(layer));
        dockerArchive = images.resolve("docker.tar");
        ociArchive = images.resolve("oci.tar");
        LocalRegistry.run(List.of("skopeo", "copy", "--quiet", "oci:" + layout + ":latest", "docker-archive:" + dockerArchive + ":test/img:1"));
        LocalRegistry.run(List.of("skopeo", "copy", "--quiet", "oci:" + layout + ":latest", "oci-archive:" + ociArchive + ":latest"));
    }

    private ImageImporter importer(long max) { return new ImageImporter(dir.resolve("work"), max); }

    private ImageImporter.Imported importFile(Path archive) throws Exception {
        try (InputStream in = Files.newInputStream(archive)) {
            return importer(MAX).importTar(in, dir.resolve("rootfs.ext4"), ImagePuller.Progress.NONE);
        }
    }

    @Test
    void aDockerSaveArchiveBecomesARootFilesystem() throws Exception {
        var phases = new ArrayList<String>();
        var progress = new ImagePuller.Progress() {
            @Override public void layer(int index, Descriptor layer, long done) { }
            @Override public void phase(String what) { phases.add(what); }
        };
        ImageImporter.Imported imported;
        try (InputStream in = Files.newInputStream(dockerArchive)) {
            imported = importer(MAX).importTar(in, dir.resolve("rootfs.ext4"), progress);
        }
        assertThat(imported.digest()).as("docker save's config digest").isEqualTo(configDigest());
        assertThat(imported.names()).containsExactly("docker.io/test/img:1");
        assertBootable(imported);
        assertThat(phases).anyMatch(p -> p.startsWith("unpacking 1 layers"));
    }

    @Test
    void anOciArchiveBecomesARootFilesystem() throws Exception {
        var imported = importFile(ociArchive);
        assertThat(imported.digest()).as("the manifest digest").isEqualTo(manifestDigest());
        assertThat(imported.names()).containsExactly("latest");
        assertBootable(imported);
    }

    @Test
    void aGzippedArchiveIsImportedToo() throws Exception {
        Path gz = dir.resolve("docker.tar.gz");
        LocalRegistry.run(List.of("sh", "-c", "gzip -c < " + dockerArchive + " > " + gz));
        assertBootable(importFile(gz));
    }

    @Test
    void legacyLayerLinksAreFollowedAndCheckedAgainstTheConfigsDiffIds() throws Exception {
        // docker save before Docker 25: manifest.json names <id>/layer.tar, here skopeo's link to the layer file
        Path legacy = dir.resolve("legacy");
        Files.createDirectories(legacy);
        LocalRegistry.run(List.of("tar", "-C", legacy.toString(), "-xf", dockerArchive.toString()));
        Path link;
        try (var files = Files.walk(legacy)) {
            link = files.filter(Files::isSymbolicLink).findFirst().orElseThrow();
        }
        Path layer = link.resolveSibling(Files.readSymbolicLink(link)).normalize();
        String linkName = legacy.relativize(link).toString();
        Path manifest = legacy.resolve("manifest.json");
        Files.writeString(manifest, Files.readString(manifest).replace(layer.getFileName().toString(), linkName));
        assertBootable(importFile(tarOf(legacy)));
        Files.delete(dir.resolve("rootfs.ext4"));

        String tar = Files.readString(layer, StandardCharsets.ISO_8859_1);
        Files.writeString(layer, tar.replace("ID=imported", "ID=imparted"), StandardCharsets.ISO_8859_1);
        refused(Files.readAllBytes(tarOf(legacy)), MAX, "layer 1 (" + linkName + ") digest mismatch");
    }

    @Test
    void linksOutOfTheArchiveAndHardLinksAreRefused() throws Exception {
        String layerLink = "a".repeat(64) + "/layer.tar";
        refused(tar(List.of(new Entry(layerLink, TarArchiveEntry.LF_SYMLINK, "../../etc/passwd"))), MAX,
                "is a symlink to ../../etc/passwd; only links between the archive's own layer files are accepted");
        refused(tar(List.of(new Entry("manifest.json", TarArchiveEntry.LF_LINK, "/etc/passwd"))), MAX, "entry manifest.json is a hard link");
    }

    @Test
    void aTruncatedArchiveIsRefused() throws Exception {
        byte[] whole = Files.readAllBytes(dockerArchive);
        refused(Arrays.copyOf(whole, whole.length / 2), MAX, "truncated");
    }

    @Test
    void aBodyThatIsNotATarIsRefused() throws Exception {
        byte[] noise = new byte[64 << 10];
        new Random(7).nextBytes(noise);
        refused(noise, MAX, "not a tar archive");
    }

    @Test
    void aTarThatIsNotAnImageIsRefused() throws Exception {
        refused(tar(List.of(new Entry("hello.txt", "hi"))), MAX, "no manifest.json or index.json: not a docker save or OCI archive");
    }

    @Test
    void anEntryClimbingOutOfTheArchiveIsRefused() throws Exception {
        refused(tar(List.of(new Entry("manifest.json", "[]"), new Entry("../evil", "boom"))), MAX, "../evil points outside the archive");
        assertThat(dir.resolve("evil")).doesNotExist();
    }

    @Test
    void aLayerWhoseContentDiffersFromItsDigestIsRefused() throws Exception {
        Path copy = dir.resolve("tampered");
        LocalRegistry.run(List.of("cp", "-r", layout.toString(), copy.toString()));
        Path layerBlob = copy.resolve("blobs/sha256/" + layerDigest().substring(7));
        byte[] bytes = Files.readAllBytes(layerBlob);
        bytes[bytes.length / 2] ^= 1; // same size, other content
        Files.write(layerBlob, bytes);
        Path archive = dir.resolve("tampered.tar");
        LocalRegistry.run(List.of("tar", "-C", copy.toString(), "-cf", archive.toString(), "."));
        refused(Files.readAllBytes(archive), MAX, "layer 1 sha256:" + layerBlob.getFileName() + " digest mismatch");
    }

    @Test
    void anArchiveOverTheCapIsRefusedWhileStreaming() throws Exception {
        // a blob that claims a gigabyte and never ends: the cap stops it, not the disk
        var header = new ByteArrayOutputStream();
        var tar = new TarArchiveOutputStream(header); // left open: its entry never ends
        var entry = new TarArchiveEntry("blobs/sha256/" + "0".repeat(64));
        entry.setSize(1L << 30);
        tar.putArchiveEntry(entry);
        tar.flush();
        InputStream endless = new SequenceInputStream(new ByteArrayInputStream(header.toByteArray()), new InputStream() {
            @Override public int read() { return 'x'; }
        });
        refused(endless, 1 << 20, "archive larger than 1 MB");
    }

    private void refused(byte[] body, long cap, String message) throws IOException {
        refused(new ByteArrayInputStream(body), cap, message);
    }

    private void refused(InputStream body, long cap, String message) throws IOException {
        Path rootfs = dir.resolve("rootfs.ext4");
        assertThatThrownBy(() -> importer(cap).importTar(body, rootfs, ImagePuller.Progress.NONE))
                .isInstanceOf(ImportException.class).hasMessageContaining(message);
        assertThat(rootfs).doesNotExist();
        assertThat(rootfs.resolveSibling("rootfs.ext4.partial")).doesNotExist();
        try (var left = Files.list(dir.resolve("work"))) {
            assertThat(left).as("no staging, no tree").isEmpty();
        }
    }

    private static void assertBootable(ImageImporter.Imported imported) throws Exception {
        assertThat(imported.config().env()).containsEntry("GREETING", "hi");
        assertThat(imported.config().workingDir()).isEqualTo("/srv");
        assertThat(imported.rootfsBytes()).isEqualTo(Files.size(imported.rootfs()));
        assertThat(debugfs(imported.rootfs(), "cat /etc/os-release")).contains("ID=imported");
        assertThat(debugfs(imported.rootfs(), "cat /srv/app.sh")).contains("echo hi");
        try (var left = Files.list(imported.rootfs().getParent().resolve("work"))) {
            assertThat(left).as("no staging, no tree").isEmpty();
        }
    }

    private static String debugfs(Path image, String request) throws Exception {
        Process p = new ProcessBuilder("debugfs", "-R", request, image.toString()).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor()).isZero();
        return out;
    }

    private static String manifestDigest() throws IOException {
        String index = Files.readString(layout.resolve("index.json"));
        int at = index.indexOf("sha256:");
        return index.substring(at, at + 71);
    }

    /** The manifest names the config's digest first, then its one layer's. */
    private static String configDigest() throws IOException {
        String manifest = manifest();
        int at = manifest.indexOf("sha256:");
        return manifest.substring(at, at + 71);
    }

    private static String layerDigest() throws IOException {
        String manifest = manifest();
        int at = manifest.lastIndexOf("sha256:");
        return manifest.substring(at, at + 71);
    }

    private static String manifest() throws IOException {
        return Files.readString(layout.resolve("blobs/sha256/" + manifestDigest().substring(7)));
    }

    /** A file with {@code content}, or a link of type {@code flag} to {@code content}. */
    private record Entry(String name, byte flag, String content) {
        Entry(String name, String content) { this(name, TarArchiveEntry.LF_NORMAL, content); }
    }

    private Path tarOf(Path tree) throws Exception {
        Path out = Files.createTempFile(dir, "archive-", ".tar");
        LocalRegistry.run(List.of("tar", "-C", tree.toString(), "-cf", out.toString(), "."));
        return out;
    }

    private static byte[] tar(List<Entry> entries) throws IOException {
        var out = new ByteArrayOutputStream();
        try (var tar = new TarArchiveOutputStream(out)) {
            for (Entry e : entries) {
                byte[] content = e.flag() == TarArchiveEntry.LF_NORMAL ? e.content().getBytes(StandardCharsets.UTF_8) : new byte[0];
                var entry = new TarArchiveEntry(e.name(), e.flag(), true); // the name as given, ".." and all
                if (e.flag() != TarArchiveEntry.LF_NORMAL) entry.setLinkName(e.content());
                entry.setSize(content.length);
                tar.putArchiveEntry(entry);
                tar.write(content);
                tar.closeArchiveEntry();
            }
        }
        return out.toByteArray();
    }
}
