package dev.bhatti.server.image.layers;

import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class LayerExtractorTest {
    @TempDir Path dir;

    /** A tar built entry by entry. */
    static final class Tar {
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        final TarArchiveOutputStream out = new TarArchiveOutputStream(bytes);

        Tar() { out.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX); }

        Tar file(String name, String content, int mode, int uid) throws IOException {
            var e = new TarArchiveEntry(name);
            byte[] b = content.getBytes(StandardCharsets.UTF_8);
            e.setSize(b.length);
            e.setMode(0100000 | mode);
            e.setUserId(uid);
            e.setGroupId(uid);
            out.putArchiveEntry(e);
            out.write(b);
            out.closeArchiveEntry();
            return this;
        }

        Tar dir(String name) throws IOException {
            var e = new TarArchiveEntry(name.endsWith("/") ? name : name + "/");
            e.setMode(040755);
            out.putArchiveEntry(e);
            out.closeArchiveEntry();
            return this;
        }

        Tar link(String name, String target, byte type) throws IOException {
            var e = new TarArchiveEntry(name, type);
            e.setLinkName(target);
            out.putArchiveEntry(e);
            out.closeArchiveEntry();
            return this;
        }

        Tar device(String name, byte type, int major, int minor) throws IOException {
            var e = new TarArchiveEntry(name, type);
            e.setMode(0666);
            e.setDevMajor(major);
            e.setDevMinor(minor);
            out.putArchiveEntry(e);
            out.closeArchiveEntry();
            return this;
        }

        ByteArrayInputStream done() throws IOException {
            out.finish();
            return new ByteArrayInputStream(bytes.toByteArray());
        }
    }

    @Test
    void deviceNodesAreMadeWithoutBeingOpened() throws Exception {
        // /dev/ptmx of a debootstrap tree: opening it (to set its time) fails with ENODEV outside a devpts
        Path root = Files.createDirectory(dir.resolve("root"));
        LayerExtractor.applyTar(new Tar().dir("dev").device("dev/ptmx", TarConstants.LF_CHR, 5, 2)
                .device("dev/loop0", TarConstants.LF_BLK, 7, 0).device("run/fifo", TarConstants.LF_FIFO, 0, 0).done(), root);
        assertThat(Files.getAttribute(root.resolve("dev/ptmx"), "unix:rdev", LinkOption.NOFOLLOW_LINKS)).isEqualTo((5L << 8) | 2);
        assertThat(Files.getAttribute(root.resolve("dev/loop0"), "unix:rdev", LinkOption.NOFOLLOW_LINKS)).isEqualTo(7L << 8);
        assertThat((int) Files.getAttribute(root.resolve("dev/ptmx"), "unix:mode") & 0170000).as("a character device").isEqualTo(0020000);
        assertThat((int) Files.getAttribute(root.resolve("dev/loop0"), "unix:mode") & 0170000).as("a block device").isEqualTo(0060000);
        assertThat((int) Files.getAttribute(root.resolve("run/fifo"), "unix:mode") & 0170000).as("a fifo").isEqualTo(0010000);
    }

    @Test
    void layersStackWithWhiteoutsOpaqueDirectoriesLinksOwnersAndModes() throws Exception {
        Path root = Files.createDirectory(dir.resolve("root"));
        LayerExtractor.applyTar(new Tar().dir("etc").file("etc/keep", "k", 0644, 0).file("etc/gone", "g", 0644, 0)
                .dir("opt/old").file("opt/old/a", "a", 0644, 0).file("usr/bin/tool", "#!/bin/sh\n", 04755, 0)
                .file("home/u/notes", "n", 0600, 1000).done(), root);
        LayerExtractor.applyTar(new Tar().file("etc/.wh.gone", "", 0644, 0).file("opt/old/.wh..wh..opq", "", 0644, 0)
                .file("opt/old/b", "b", 0644, 0).link("bin", "usr/bin", TarConstants.LF_SYMLINK)
                .link("usr/bin/tool2", "usr/bin/tool", TarConstants.LF_LINK).done(), root);

        assertThat(root.resolve("etc/keep")).hasContent("k");
        assertThat(root.resolve("etc/gone")).as("whited out").doesNotExist();
        assertThat(root.resolve("opt/old/a")).as("an opaque directory hides what was below").doesNotExist();
        assertThat(root.resolve("opt/old/b")).hasContent("b");
        assertThat(Files.readSymbolicLink(root.resolve("bin"))).isEqualTo(Path.of("usr/bin"));
        assertThat(Files.isSameFile(root.resolve("usr/bin/tool"), root.resolve("usr/bin/tool2"))).as("a hard link").isTrue();
        assertThat((int) Files.getAttribute(root.resolve("usr/bin/tool"), "unix:mode") & 07777).as("setuid kept").isEqualTo(04755);
        assertThat((int) Files.getAttribute(root.resolve("home/u/notes"), "unix:uid")).isEqualTo(1000);
    }

    @Test
    void noEntryWritesOutsideTheRoot() throws Exception {
        Path root = Files.createDirectory(dir.resolve("root"));
        Path outside = Files.createDirectory(dir.resolve("outside"));
        LayerExtractor.applyTar(new Tar().link("evil", outside.toString(), TarConstants.LF_SYMLINK)
                .link("up", "../../../../../..", TarConstants.LF_SYMLINK).done(), root);
        LayerExtractor.applyTar(new Tar().file("evil/planted", "x", 0644, 0).file("../../escaped", "x", 0644, 0)
                .file("/abs/escaped", "x", 0644, 0).file("up/" + outside + "/viaUp", "x", 0644, 0).done(), root);
        try (var files = Files.list(outside)) {
            assertThat(files).as("nothing reached the host directory").isEmpty();
        }
        assertThat(root.resolve(outside.toString().substring(1)).resolve("planted")).as("kept inside the root").hasContent("x");
        assertThat(root.resolve("escaped")).hasContent("x");
        assertThat(root.resolve("abs/escaped")).hasContent("x");
        assertThat(dir.resolve("escaped")).doesNotExist();
    }

    @Test
    void aHardLinkToSomethingOutsideTheImageIsRefused() throws Exception {
        Path root = Files.createDirectory(dir.resolve("root"));
        Files.writeString(dir.resolve("secret"), "s");
        assertThatThrownBy(() -> LayerExtractor.applyTar(new Tar().link("copy", "../secret", TarConstants.LF_LINK).done(), root))
                .isInstanceOf(LayerExtractor.LayerException.class).hasMessageContaining("no file of this image");
        assertThat(Files.exists(root.resolve("copy"), LinkOption.NOFOLLOW_LINKS)).isFalse();
    }

    @Test
    void gzipLayersAreToldByTheirFirstBytes() throws Exception {
        Path root = Files.createDirectory(dir.resolve("root"));
        byte[] tar = new Tar().file("hello", "hi", 0644, 0).done().readAllBytes();
        Path layer = dir.resolve("layer");
        try (var gz = new java.util.zip.GZIPOutputStream(Files.newOutputStream(layer))) {
            gz.write(tar);
        }
        LayerExtractor.apply(layer, root);
        assertThat(root.resolve("hello")).hasContent("hi");
    }

    static final byte[] ORIGIN = {0, (byte) 0xff, (byte) 0x80, 'x'};

    @Test
    void fileCapabilitiesAndUserAttributesComeThrough() throws Exception {
        // GNU tar writes them as a Docker layer does (SCHILY.xattr, raw bytes)
        Path src = Files.createDirectories(dir.resolve("src"));
        Path ping = Files.writeString(src.resolve("ping"), "x");
        byte[] cap = java.nio.ByteBuffer.allocate(20).order(java.nio.ByteOrder.LITTLE_ENDIAN)
                .putInt(0x02000000).putInt(1 << 13 | 1 << 7).putInt(0).putInt(0).putInt(0).array(); // cap_net_raw and cap_setuid (a byte 0x80)
        Xattrs.set(ping, "security.capability", cap);
        Xattrs.set(ping, "user.origin", ORIGIN);
        Process p = new ProcessBuilder("tar", "--xattrs", "--xattrs-include=*", "-C", src.toString(), "-cf", dir.resolve("x.tar").toString(), "ping")
                .redirectErrorStream(true).start();
        assertThat(p.waitFor()).as(new String(p.getInputStream().readAllBytes())).isZero();
        Path root = Files.createDirectory(dir.resolve("root"));
        LayerExtractor.apply(dir.resolve("x.tar"), root);
        assertThat(Xattrs.get(root.resolve("ping"), "security.capability")).isEqualTo(cap);
        assertThat(Xattrs.get(root.resolve("ping"), "user.origin")).as("bytes that are not UTF-8").isEqualTo(ORIGIN);
    }
}
