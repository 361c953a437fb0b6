package dev.bhatti.server.image.layers;

import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPInputStream;

/**
 * Applies image layers, bottom first, onto a root directory the way a container runtime does: whiteouts
 * ({@code .wh.NAME}) remove what lower layers put there, an opaque marker ({@code .wh..wh..opq}) empties
 * its directory first, files, directories, symlinks, hard links, device nodes and fifos are made with
 * their owners, modes (setuid included) and times. No entry can reach outside the root: names and the
 * parents they pass through resolve inside it ({@link RootPath}). Runs as root (to give files their owners).
 */
public final class LayerExtractor {
    private static final String WHITEOUT = ".wh.";
    private static final String OPAQUE = ".wh..wh..opq";

    private LayerExtractor() {}

    /** A layer that cannot be applied; the message names the entry. */
    public static final class LayerException extends IOException {
        public LayerException(String message) { super(message); }
    }

    /** Applies one layer file (tar, tar+gzip or tar+zstd, told by its first bytes). */
    public static void apply(Path layer, Path root) throws IOException {
        try (InputStream raw = new BufferedInputStream(Files.newInputStream(layer), 1 << 16)) {
            raw.mark(4);
            byte[] magic = raw.readNBytes(4);
            raw.reset();
            if (magic.length >= 2 && (magic[0] & 0xff) == 0x1f && (magic[1] & 0xff) == 0x8b) {
                applyTar(new GZIPInputStream(raw, 1 << 16), root);
            } else if (magic.length == 4 && (magic[0] & 0xff) == 0x28 && (magic[1] & 0xff) == 0xb5 && (magic[2] & 0xff) == 0x2f
                    && (magic[3] & 0xff) == 0xfd) {
                applyZstd(layer, root);
            } else {
                applyTar(raw, root);
            }
        }
    }

    private static void applyZstd(Path layer, Path root) throws IOException {
        Process p = new ProcessBuilder("zstd", "-dc", "--", layer.toString()).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        try (InputStream in = p.getInputStream()) {
            applyTar(in, root);
        }
        try {
            if (p.waitFor() != 0) throw new LayerException("the zstd layer " + layer.getFileName() + " is corrupt");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
    }

    /** Applies the entries of one uncompressed tar stream. */
    public static void applyTar(InputStream tar, Path root) throws IOException {
        var tap = new PaxXattrTap(tar);
        var in = new TarArchiveInputStream(tap);
        List<TarArchiveEntry> directories = new ArrayList<>();
        List<Path> directoryPaths = new ArrayList<>();
        for (TarArchiveEntry e; (e = in.getNextEntry()) != null; ) {
            Map<String, byte[]> rawXattrs = tap.takeXattrs();
            String name = e.getName();
            if (name.indexOf('\0') >= 0) throw new LayerException("an entry name holds a NUL byte");
            String clean = strip(name);
            if (clean.isEmpty()) continue; // the root itself
            int slash = clean.lastIndexOf('/');
            String parent = slash < 0 ? "" : clean.substring(0, slash);
            String base = clean.substring(slash + 1);
            if (base.equals(OPAQUE)) {
                Path dir = RootPath.resolve(root, parent);
                if (RootPath.isDirectory(dir)) emptyDirectory(dir);
                continue;
            }
            if (base.startsWith(WHITEOUT)) {
                Path gone = RootPath.resolve(root, parent + "/" + base.substring(WHITEOUT.length()));
                deleteTree(gone);
                continue;
            }
            Path target = RootPath.resolve(root, clean);
            Files.createDirectories(target.getParent());
            if (e.isDirectory()) {
                if (Files.exists(target, LinkOption.NOFOLLOW_LINKS) && !RootPath.isDirectory(target)) Files.delete(target);
                if (!Files.exists(target, LinkOption.NOFOLLOW_LINKS)) Files.createDirectory(target);
                directories.add(e);
                directoryPaths.add(target);
                continue;
            }
            if (RootPath.isDirectory(target)) deleteTree(target);
            else Files.deleteIfExists(target);
            if (e.isSymbolicLink()) {
                Files.createSymbolicLink(target, Path.of(e.getLinkName()));
                owner(target, e);
            } else if (e.isLink()) {
                Path source = RootPath.resolve(root, e.getLinkName());
                if (!Files.isRegularFile(source, LinkOption.NOFOLLOW_LINKS)) {
                    throw new LayerException("hard link " + clean + " points at " + e.getLinkName() + ", which is no file of this image");
                }
                Files.createLink(target, source);
            } else if (e.isCharacterDevice() || e.isBlockDevice() || e.isFIFO()) {
                mknod(target, e);
                attributes(target, e);
            } else if (e.isFile()) {
                Files.copy(in, target, StandardCopyOption.REPLACE_EXISTING);
                attributes(target, e);
                xattrs(target, e, rawXattrs, clean);
            } else {
                throw new LayerException("entry " + clean + " is of a kind an image cannot hold");
            }
        }
        // directories last: a read-only directory would refuse its children, and their times would move
        for (int i = directories.size() - 1; i >= 0; i--) attributes(directoryPaths.get(i), directories.get(i));
    }

    /** A tar name without leading "./" or "/" and trailing "/". Parent references are left to {@link RootPath}. */
    static String strip(String name) {
        String n = name;
        while (n.startsWith("./") || n.startsWith("/")) n = n.startsWith("./") ? n.substring(2) : n.substring(1);
        while (n.endsWith("/")) n = n.substring(0, n.length() - 1);
        return n.equals(".") ? "" : n;
    }

    private static void owner(Path p, TarArchiveEntry e) throws IOException {
        Files.setAttribute(p, "unix:uid", (int) e.getLongUserId(), LinkOption.NOFOLLOW_LINKS);
        Files.setAttribute(p, "unix:gid", (int) e.getLongGroupId(), LinkOption.NOFOLLOW_LINKS);
    }

    private static void attributes(Path p, TarArchiveEntry e) throws IOException {
        owner(p, e); // before the mode: changing the owner clears setuid and setgid
        ByPath.chmod(p, e.getMode());
        ByPath.setTimes(p, e.getModTime().toInstant()); // by path: never open a device node
    }

    /**
     * The entry's extended attributes (file capabilities among them), set last: a chown clears them.
     * GNU tar, Go and Docker write raw bytes ({@code SCHILY.xattr.}), taken exactly from the stream by
     * {@link PaxXattrTap} (the tar reader decodes them as UTF-8, losing bytes); libarchive writes base64
     * ({@code LIBARCHIVE.xattr.}).
     */
    private static void xattrs(Path target, TarArchiveEntry e, Map<String, byte[]> raw, String name) throws IOException {
        Map<String, byte[]> all = new LinkedHashMap<>(raw);
        for (var h : e.getExtraPaxHeaders().entrySet()) {
            if (!h.getKey().startsWith("LIBARCHIVE.xattr.")) continue;
            String attr = URLDecoder.decode(h.getKey().substring("LIBARCHIVE.xattr.".length()), StandardCharsets.UTF_8);
            try {
                all.putIfAbsent(attr, Base64.getDecoder().decode(h.getValue()));
            } catch (IllegalArgumentException ex) {
                throw new LayerException("the extended attribute " + attr + " of " + name + " is not base64");
            }
        }
        for (var x : all.entrySet()) {
            String attr = x.getKey();
            if (attr.startsWith("user.") || attr.startsWith("security.") || attr.startsWith("trusted.")) Xattrs.set(target, attr, x.getValue());
        }
    }

    private static void mknod(Path p, TarArchiveEntry e) throws IOException {
        List<String> cmd = e.isFIFO() ? List.of("mknod", "--", p.toString(), "p")
                : List.of("mknod", "--", p.toString(), e.isCharacterDevice() ? "c" : "b", Integer.toString(e.getDevMajor()),
                Integer.toString(e.getDevMinor()));
        try {
            Process proc = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String out = new String(proc.getInputStream().readAllBytes());
            if (proc.waitFor() != 0) throw new LayerException("could not make device " + p.getFileName() + ": " + out.strip());
        } catch (InterruptedException ex) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", ex);
        }
    }

    private static void emptyDirectory(Path dir) throws IOException {
        try (DirectoryStream<Path> children = Files.newDirectoryStream(dir)) {
            for (Path c : children) deleteTree(c);
        }
    }

    /** Deletes {@code p} and, if it is a real directory, everything under it; never follows a symlink. */
    static void deleteTree(Path p) throws IOException {
        if (!Files.exists(p, LinkOption.NOFOLLOW_LINKS)) return;
        if (RootPath.isDirectory(p)) emptyDirectory(p);
        Files.delete(p);
    }
}
