package dev.bhatti.server.image;

import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;
import org.apache.commons.compress.archivers.tar.TarUtils;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Map;
import java.util.Optional;
import java.util.zip.GZIPInputStream;

import static dev.bhatti.server.image.ArchiveNames.shown;

/**
 * An image archive (a tar, or a gzipped one) streamed into a staging directory, never more than its cap.
 * Entry names are never trusted: only {@linkplain ArchiveNames#kept kept names} are written, each file's
 * sha256 taken on the way; other safe names are skipped. Names that climb out, hard links, devices and
 * fifos are refused. Docker's legacy {@code <id>/layer.tar} symlinks are kept as aliases, never made on
 * disk. Closing deletes the directory.
 */
final class ArchiveStaging implements AutoCloseable {
    /** A JSON file larger than this is not an image's manifest, index or config. */
    private static final long MAX_JSON = 4 << 20;
    private static final int MAX_LINK_HOPS = 8;
    private static final JsonMapper JSON = JsonMapper.builder().build();

    /** One file of the archive: where it was staged, its size and the hex of its sha256. */
    record Staged(Path file, long size, String sha256) {}

    private final Path dir;
    private final Map<String, Staged> files = new HashMap<>();
    private final Map<String, String> links = new HashMap<>();

    private ArchiveStaging(Path dir) { this.dir = dir; }

    /** Stages {@code body} in a fresh directory under {@code work}; on any failure that directory is gone. */
    static ArchiveStaging receive(InputStream body, Path work, long maxBytes) throws ImportException, IOException {
        Files.createDirectories(work);
        var staging = new ArchiveStaging(Files.createTempDirectory(work, "import-"));
        try {
            staging.read(tarStream(body, maxBytes));
            return staging;
        } catch (ImportException | IOException | RuntimeException e) {
            try {
                staging.close();
            } catch (IOException d) {
                e.addSuppressed(d);
            }
            throw e;
        }
    }

    boolean has(String name) { return file(name).isPresent(); }

    /** The staged file an archive's JSON calls {@code name}, following docker's layer links. */
    Optional<Staged> file(String name) {
        String n = name.startsWith("./") ? name.substring(2) : name;
        for (int hop = 0; hop <= MAX_LINK_HOPS; hop++) {
            if (files.containsKey(n)) return Optional.of(files.get(n));
            n = links.get(n);
            if (n == null) return Optional.empty();
        }
        return Optional.empty();
    }

    /** The staged file {@code name}, which {@code what} (for the message) needs. */
    Staged require(String name, String what) throws ImportException {
        return file(name).orElseThrow(() -> new ImportException(what + " is missing from the archive"));
    }

    JsonNode json(Staged f, String what) throws ImportException, IOException {
        if (f.size() > MAX_JSON) throw new ImportException(what + " is larger than " + CappedInputStream.size(MAX_JSON));
        byte[] bytes = Files.readAllBytes(f.file());
        try {
            return JSON.readTree(bytes);
        } catch (JacksonException e) {
            throw new ImportException(what + " is not JSON");
        }
    }

    @Override
    public void close() throws IOException { Trees.delete(dir); }

    /** The uncompressed tar of {@code body}, capped, after checking its first header is a tar header. */
    private static InputStream tarStream(InputStream body, long maxBytes) throws ImportException {
        try {
            var in = new BufferedInputStream(body, 1 << 16);
            in.mark(2);
            boolean gzip = in.read() == 0x1f && in.read() == 0x8b;
            in.reset();
            var tar = new BufferedInputStream(new CappedInputStream(gzip ? new GZIPInputStream(in, 1 << 16) : in, maxBytes), 1 << 16);
            tar.mark(TarConstants.DEFAULT_RCDSIZE);
            byte[] header = tar.readNBytes(TarConstants.DEFAULT_RCDSIZE);
            tar.reset();
            if (!isTarHeader(header)) throw new ImportException("not a tar archive");
            return tar;
        } catch (IOException e) {
            throw readFailure(e, true);
        }
    }

    private static boolean isTarHeader(byte[] header) {
        try {
            return header.length == TarConstants.DEFAULT_RCDSIZE && TarUtils.verifyCheckSum(header);
        } catch (IllegalArgumentException e) {
            return false; // a checksum field that is not even a number
        }
    }

    private void read(InputStream tar) throws ImportException, IOException {
        var in = new TarArchiveInputStream(tar);
        for (TarArchiveEntry e; (e = next(in)) != null; ) accept(in, e);
    }

    private static TarArchiveEntry next(TarArchiveInputStream in) throws ImportException {
        try {
            return in.getNextEntry();
        } catch (IOException | IllegalArgumentException e) {
            throw readFailure(e, false);
        }
    }

    private static ImportException readFailure(Exception e, boolean first) {
        if (e instanceof CappedInputStream.TooLarge) return new ImportException(e.getMessage(), e);
        if (first) return new ImportException("not a tar archive (" + e.getMessage() + ")", e);
        return new ImportException("the archive is truncated or corrupt (" + e.getMessage() + ")", e);
    }

    private void accept(TarArchiveInputStream in, TarArchiveEntry e) throws ImportException, IOException {
        String name = ArchiveNames.safe(e.getName());
        if (e.isDirectory()) return; // staging makes the directories its files need
        if (e.isSymbolicLink()) {
            link(name, e.getLinkName());
        } else if (!regular(e)) {
            throw new ImportException("entry " + shown(name) + " is " + kind(e)
                    + "; an image archive holds only files, directories and layer links");
        } else if (ArchiveNames.kept(name)) {
            links.remove(name);
            files.put(name, copy(in, dir.resolve(name)));
        } else {
            drain(in);
        }
    }

    private static boolean regular(TarArchiveEntry e) {
        byte flag = e.getLinkFlag();
        return (flag == TarConstants.LF_NORMAL || flag == TarConstants.LF_OLDNORM) && !e.isSparse();
    }

    private static String kind(TarArchiveEntry e) {
        if (e.isLink()) return "a hard link";
        if (e.isCharacterDevice() || e.isBlockDevice()) return "a device";
        if (e.isFIFO()) return "a fifo";
        if (e.isSparse()) return "a sparse file";
        return "of type '" + shown(String.valueOf((char) e.getLinkFlag())) + "'";
    }

    /** Docker's {@code <id>/layer.tar -> ../<other>}: an alias from a kept name to a kept name, nothing else. */
    private void link(String name, String target) throws ImportException {
        String resolved = ArchiveNames.linkTarget(name, target).orElseThrow(() -> new ImportException("entry " + shown(name)
                + " is a symlink to " + shown(target) + "; only links between the archive's own layer files are accepted"));
        files.remove(name);
        links.put(name, resolved);
    }

    private static Staged copy(InputStream in, Path target) throws ImportException, IOException {
        Files.createDirectories(target.getParent());
        MessageDigest sha = sha256();
        long size = 0;
        byte[] buf = new byte[1 << 16];
        try (OutputStream out = Files.newOutputStream(target)) {
            for (int n; (n = read(in, buf)) >= 0; size += n) {
                sha.update(buf, 0, n);
                out.write(buf, 0, n);
            }
        }
        return new Staged(target, size, HexFormat.of().formatHex(sha.digest()));
    }

    private static void drain(InputStream in) throws ImportException {
        byte[] buf = new byte[1 << 16];
        while (read(in, buf) >= 0) {
            // a name no image format uses: not kept
        }
    }

    /** Reads entry data, telling a broken archive (the user's) from a failing disk (ours). */
    private static int read(InputStream in, byte[] buf) throws ImportException {
        try {
            return in.read(buf);
        } catch (IOException e) {
            throw readFailure(e, false);
        }
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
