package dev.bhatti.agent;

import dev.bhatti.protocol.Message;
import dev.bhatti.protocol.Message.Channel;
import dev.bhatti.protocol.Stream;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.nio.file.attribute.FileTime;

/**
 * File operations, answered with the guest's own semantics: paths are the guest's (relative ones start
 * in /workspace), symlinks are followed for reads and writes like any program would, listings and
 * stat show links themselves. The agent runs as root, so permissions do not limit it; written files
 * belong to the requested user (uid 1000 by default).
 */
final class FileSession {

    static final int MAX_LISTING = 10_000;
    private static final int CHUNK = 32 * 1024;
    /** A writer that sends nothing for this long has gone away: its temporary file is removed. */
    private static final long WRITE_IDLE_SECONDS = 120;

    private final AgentConfig config;
    private final Stream stream;

    FileSession(AgentConfig config, Stream stream) {
        this.config = config;
        this.stream = stream;
    }

    void run(Message opening) {
        try {
            Message reply = switch (opening) {
                case Message.FileRead r -> read(r);
                case Message.FileWrite w -> write(w);
                case Message.FileStat st -> stat(st);
                case Message.FileListRequest l -> list(l);
                default -> new Message.Error("unsupported", "not a file operation");
            };
            stream.send(reply);
        } catch (IOException e) {
            Log.info("file operation on stream " + stream.id() + " lost its channel: " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            stream.finish();
        }
    }

    private Path resolve(String path) {
        if (path.isEmpty() || path.indexOf('\0') >= 0) throw new BadPath("path must be a non-empty string without NUL bytes");
        return config.workspace().resolve(path); // an absolute path replaces the workspace
    }

    private Message read(Message.FileRead r) throws IOException {
        Path path;
        BasicFileAttributes attrs;
        try {
            path = resolve(r.path());
            attrs = Files.readAttributes(path, BasicFileAttributes.class);
        } catch (BadPath e) {
            return new Message.Error("bad_request", e.getMessage());
        } catch (IOException e) {
            return failure(e, r.path());
        }
        if (attrs.isDirectory()) return new Message.Error("is_directory", r.path() + " is a directory");
        if (!attrs.isRegularFile()) return new Message.Error("not_regular", r.path() + " is not a regular file");
        try (InputStream in = new BufferedInputStream(Files.newInputStream(path), CHUNK)) {
            stream.send(info(path, path.getFileName() == null ? "/" : path.getFileName().toString(), true));
            boolean whole = r.offsetLine() <= 0 && r.limitLines() <= 0 && r.maxBytes() <= 0;
            if (whole) copyAll(in); else copyRange(in, r);
        } catch (IOException e) {
            return failure(e, r.path()); // the data so far stays valid; the error ends the stream
        }
        return new Message.Exit(0, false);
    }

    private void copyAll(InputStream in) throws IOException {
        byte[] buf = new byte[CHUNK];
        int n;
        while ((n = in.read(buf)) > 0) stream.send(new Message.Data(Channel.STDOUT, Arrays.copyOf(buf, n)));
    }

    /** Lines from {@code offsetLine} (1-based), at most {@code limitLines} lines and {@code maxBytes} bytes. */
    private void copyRange(InputStream in, Message.FileRead r) throws IOException {
        long first = Math.max(1, r.offsetLine());
        long lastLine = r.limitLines() > 0 ? first + r.limitLines() - 1 : Long.MAX_VALUE;
        long budget = r.maxBytes() > 0 ? r.maxBytes() : Long.MAX_VALUE;
        long line = 1;
        var out = new ByteArrayOutputStream(CHUNK);
        byte[] buf = new byte[CHUNK];
        int n;
        outer:
        while ((n = in.read(buf)) > 0) {
            for (int i = 0; i < n; i++) {
                if (line > lastLine || budget == 0) break outer;
                if (line >= first) {
                    out.write(buf[i]);
                    budget--;
                }
                if (buf[i] == '\n') line++;
            }
            if (out.size() >= CHUNK) {
                stream.send(new Message.Data(Channel.STDOUT, out.toByteArray()));
                out.reset();
            }
        }
        if (out.size() > 0) stream.send(new Message.Data(Channel.STDOUT, out.toByteArray()));
    }

    private Message write(Message.FileWrite w) throws IOException, InterruptedException {
        Path path;
        try {
            path = resolve(w.path());
        } catch (BadPath e) {
            return new Message.Error("bad_request", e.getMessage());
        }
        var user = GuestUser.resolve(config.passwd(), w.user());
        if (user.isEmpty()) return new Message.Error("bad_request", "no such user in the guest: " + w.user());
        if (Files.isDirectory(path)) return new Message.Error("is_directory", w.path() + " is a directory");
        if (w.mode() < 0 || w.mode() > 0777) {
            // setuid, setgid and sticky would not survive the chown below (the kernel clears them), so refuse them
            // rather than write something other than what was asked
            return new Message.Error("bad_request", "mode " + Integer.toOctalString(w.mode())
                    + " is not supported: only permission bits (0000 to 0777), no setuid, setgid or sticky");
        }
        Path parent = path.toAbsolutePath().getParent();
        Path tmp = null;
        try {
            createParents(parent, user.get());
            tmp = parent.resolve("." + path.getFileName() + ".bhatti-tmp-" + HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextInt()));
            try (FileChannel out = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                while (true) {
                    Message m = receive();
                    if (m == null) throw new IOException("the writer sent nothing for " + WRITE_IDLE_SECONDS + " s");
                    if (m instanceof Message.Eof) break;
                    if (m instanceof Message.Error e) throw new IOException("the writer gave up: " + e.message());
                    if (m instanceof Message.Data d && d.channel() == Channel.STDIN) {
                        ByteBuffer b = ByteBuffer.wrap(d.bytes());
                        while (b.hasRemaining()) out.write(b);
                    }
                }
                out.force(true);
            }
            Files.setAttribute(tmp, "unix:mode", w.mode());
            own(tmp, user.get());
            Files.move(tmp, path, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            tmp = null;
            syncDirectory(parent);
            return info(path, path.getFileName().toString(), false);
        } catch (ChannelLost e) {
            throw e; // the host is gone mid-transfer: nobody to answer; the temporary file is removed below
        } catch (IOException e) {
            return failure(e, w.path()); // e.g. a full disk
        } finally {
            if (tmp != null) deleteQuietly(tmp);
        }
    }

    private static void deleteQuietly(Path p) {
        try {
            Files.deleteIfExists(p);
        } catch (IOException e) {
            Log.info("could not remove " + p + ": " + e.getMessage());
        }
    }

    private Message receive() throws ChannelLost, InterruptedException {
        try {
            return stream.poll(WRITE_IDLE_SECONDS, TimeUnit.SECONDS);
        } catch (IOException e) {
            throw new ChannelLost(e);
        }
    }

    /** The channel failed, as opposed to the file system. */
    private static final class ChannelLost extends IOException {
        ChannelLost(IOException cause) { super(cause.getMessage(), cause); }
    }

    /**
     * Creates missing parent directories. Under the workspace or the owner's home they belong to the
     * owner; elsewhere (/etc/..., /opt/...) they stay root's, as a package would leave them.
     */
    private void createParents(Path dir, GuestUser owner) throws IOException {
        var missing = new ArrayList<Path>();
        for (Path p = dir; p != null && !Files.exists(p); p = p.getParent()) missing.addFirst(p);
        boolean users = dir.startsWith(config.workspace()) || (!owner.home().equals("/") && dir.startsWith(owner.home()));
        for (Path p : missing) {
            Files.createDirectory(p);
            if (users) own(p, owner);
        }
    }

    private void own(Path p, GuestUser user) throws IOException {
        if (!config.runningAsRoot()) return;
        Files.setAttribute(p, "unix:uid", user.uid(), LinkOption.NOFOLLOW_LINKS);
        Files.setAttribute(p, "unix:gid", user.gid(), LinkOption.NOFOLLOW_LINKS);
    }

    private static void syncDirectory(Path dir) {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true); // makes the rename durable
        } catch (IOException e) {
            // not every filesystem lets a directory be fsynced; the rename itself is atomic either way
        }
    }

    private Message stat(Message.FileStat st) {
        try {
            Path path = resolve(st.path());
            return info(path, path.getFileName() == null ? "/" : path.getFileName().toString(), false);
        } catch (BadPath e) {
            return new Message.Error("bad_request", e.getMessage());
        } catch (IOException e) {
            return failure(e, st.path());
        }
    }

    private Message list(Message.FileListRequest l) {
        try {
            Path dir = resolve(l.path());
            var entries = new ArrayList<Message.FileInfo>();
            long total = 0;
            try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
                for (Path p : ds) {
                    total++;
                    if (entries.size() < MAX_LISTING) {
                        try {
                            entries.add(info(p, p.getFileName().toString(), false));
                        } catch (NoSuchFileException gone) {
                            total--; // deleted while we listed
                        }
                    }
                }
            }
            entries.sort(Comparator.comparing(Message.FileInfo::name));
            return new Message.FileList(entries, total);
        } catch (BadPath e) {
            return new Message.Error("bad_request", e.getMessage());
        } catch (IOException e) {
            return failure(e, l.path());
        }
    }

    private static Message.FileInfo info(Path p, String name, boolean follow) throws IOException {
        LinkOption[] opts = follow ? new LinkOption[0] : new LinkOption[]{LinkOption.NOFOLLOW_LINKS};
        var a = Files.readAttributes(p, "unix:mode,size,lastModifiedTime,isDirectory,isRegularFile,isSymbolicLink", opts);
        String type = (Boolean) a.get("isSymbolicLink") ? "symlink" : (Boolean) a.get("isDirectory") ? "dir"
                : (Boolean) a.get("isRegularFile") ? "file" : "other";
        return new Message.FileInfo(name, (Long) a.get("size"), ((Integer) a.get("mode")) & 07777, type,
                ((FileTime) a.get("lastModifiedTime")).toMillis());
    }

    static Message.Error failure(IOException e, String path) {
        return switch (e) {
            case NoSuchFileException x -> new Message.Error("not_found", "no such file or directory: " + path);
            case NotDirectoryException x -> new Message.Error("not_directory", "not a directory: " + path);
            case AccessDeniedException x -> new Message.Error("permission_denied", "permission denied: " + path);
            case FileAlreadyExistsException x -> new Message.Error("conflict", "already exists: " + path);
            case FileSystemException x when x.getReason() != null && x.getReason().contains("Not a directory") ->
                    new Message.Error("not_directory", "a parent of " + path + " is not a directory");
            case FileSystemException x when x.getReason() != null && x.getReason().contains("Is a directory") ->
                    new Message.Error("is_directory", path + " is a directory");
            default -> new Message.Error("io_error", path + ": " + e.getMessage());
        };
    }

    /** A path the request got wrong before the filesystem was asked. */
    private static final class BadPath extends RuntimeException {
        BadPath(String message) { super(message); }
    }
}
