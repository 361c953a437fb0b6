package dev.bhatti.engine.qemu;

import dev.bhatti.engine.EngineException;
import dev.bhatti.engine.EngineException.Kind;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A VM's memory and device state on disk, zstd-compressed (zero pages cost nothing, the rest compresses
 * several-fold). QEMU spawns nothing (its seccomp filter forbids it): it migrates into a Unix socket the
 * daemon listens on, and the daemon pipes the stream through a zstd process of its own into the file; a
 * restore is the reverse, the daemon connecting to the socket a new QEMU listens on and streaming the
 * decompressed file into it. The file gets its final name only once QEMU reported the migration complete
 * and zstd has written and synced all of it, so a crash at any point leaves either a complete snapshot or
 * none. The disk needs no copy: the VM is stopped while the snapshot is taken and its qcow2 layer is not
 * touched again until the restore.
 */
final class MemorySnapshot {

    private static final Duration POLL = Duration.ofMillis(5);
    private static final Duration WRITER_GRACE = Duration.ofSeconds(3);
    private static final int CHUNK = 1 << 20;
    /** Less room than this left beside a failed snapshot means the disk filled up. */
    private static final long FULL_BELOW = 4L << 20;

    private MemorySnapshot() {}

    /**
     * Writes the stopped VM's state into {@code files}; throws (leaving no snapshot file behind) if
     * anything fails. The daemon listens on {@code socket}, which QEMU reaches as {@code qemuUri};
     * {@code handOver} lets the VM's QEMU connect to it. {@code ram} is the VM's memory file, or null: with
     * one, QEMU writes the device state alone (the file is the memory) and the file is synced before the
     * snapshot is complete, so that the two always match on disk.
     */
    static void write(Qmp qmp, SnapshotFiles files, Path socket, String qemuUri, SocketHandOver handOver, Path ram, Duration timeout)
            throws IOException, EngineException, InterruptedException {
        Files.deleteIfExists(files.memory());
        for (Path stale : files.pieces()) Files.deleteIfExists(stale);
        Files.deleteIfExists(socket);
        Process zstd = null;
        Thread receiver = null;
        var received = new AtomicReference<Throwable>();
        try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            server.bind(UnixDomainSocketAddress.of(socket));
            handOver.to(socket);
            zstd = helper(List.of("zstd", "-q", "-1", "-f", "-o", files.partial().toString()))
                    .redirectInput(ProcessBuilder.Redirect.PIPE)
                    .redirectError(files.log().toFile())
                    .start();
            Process writer = zstd;
            receiver = Thread.ofVirtual().name("snapshot-receiver").start(() -> {
                try (SocketChannel from = server.accept(); OutputStream to = writer.getOutputStream()) {
                    copy(from, to);
                } catch (Throwable e) {
                    received.set(e);
                    writer.destroy(); // QEMU then sees its socket close and fails the migration
                }
            });
            // QEMU throttles migration to 128 MiB/s by default; a local file takes what the disk gives.
            qmp.execute("migrate-set-parameters", "{\"max-bandwidth\":107374182400}");
            if (ram != null) qmp.execute("migrate-set-capabilities", IGNORE_SHARED);
            qmp.execute("migrate", Qmp.object(Map.of("uri", Qmp.jsonString(qemuUri))));
            long deadline = System.nanoTime() + timeout.toNanos();
            while (true) {
                String status = qmp.migrationStatus();
                if (status.equals("completed")) break;
                if (status.equals("failed") || status.equals("cancelled")) {
                    // QEMU sees the broken pipe before the writer has said why it broke: give it a moment
                    zstd.waitFor(WRITER_GRACE.toMillis(), TimeUnit.MILLISECONDS);
                    String why = writerError(files, zstd);
                    throw new EngineException(Kind.FAILED, "writing the memory snapshot failed: "
                            + (why.isEmpty() ? qmp.migrationError() : why));
                }
                if (System.nanoTime() > deadline) {
                    qmp.execute("migrate_cancel", null);
                    throw new EngineException(Kind.FAILED, "writing the memory snapshot took longer than " + timeout.toSeconds() + " s");
                }
                Thread.sleep(POLL);
            }
            // QEMU is done and closes the stream; zstd may still be flushing: wait for it (or its failure).
            long left = Math.max(0, deadline - System.nanoTime());
            receiver.join(Duration.ofNanos(left));
            if (!zstd.waitFor(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
                throw new EngineException(Kind.FAILED, "the snapshot writer did not finish in time");
            }
            if (received.get() != null || zstd.exitValue() != 0) {
                String why = writerError(files, zstd);
                throw new EngineException(Kind.FAILED, "writing the memory snapshot failed: "
                        + (why.isEmpty() ? String.valueOf(received.get()) : why));
            }
            try (FileChannel c = FileChannel.open(files.partial(), StandardOpenOption.WRITE)) {
                c.force(true);
            }
            if (ram != null) HostFiles.sync(ram); // the pages the guest changed since the kernel last wrote them back
            Files.move(files.partial(), files.memory(), StandardCopyOption.ATOMIC_MOVE);
            Files.deleteIfExists(files.log());
        } catch (IOException | EngineException | InterruptedException | RuntimeException e) {
            // a failed snapshot must not look like a usable one, nor leave its pieces around
            if (zstd != null) zstd.destroyForcibly();
            if (receiver != null) receiver.interrupt();
            Files.deleteIfExists(files.memory());
            for (Path p : files.pieces()) Files.deleteIfExists(p);
            throw e;
        } finally {
            Files.deleteIfExists(socket);
        }
    }

    /**
     * Leaves shared memory out of the migration stream: a VM's memory file is its memory on both sides
     * (QEMU 7.2's name; both the writing and the loading QEMU must have it set).
     */
    static final String IGNORE_SHARED = "{\"capabilities\":[{\"capability\":\"x-ignore-shared\",\"state\":true}]}";

    /** Lets the VM's QEMU connect to a socket the daemon listens on. */
    interface SocketHandOver {
        void to(Path socket) throws IOException;
    }

    /** zstd's last error line, saying what to do about a full disk; empty if it reported none. */
    private static String writerError(SnapshotFiles files, Process zstd) {
        try {
            String text = Files.exists(files.log()) ? Files.readString(files.log(), StandardCharsets.UTF_8).strip() : "";
            boolean failed = !zstd.isAlive() && zstd.exitValue() != 0;
            if (text.isEmpty() && !failed) return "";
            // on a full disk the writer's own message may not have found room either: look at the disk
            boolean full = text.contains("No space left") || Files.getFileStore(files.dir()).getUsableSpace() < FULL_BELOW;
            if (full) return "no space left on the disk holding " + files.dir() + "; free some space and try again";
            return text.isEmpty() ? "the snapshot writer failed" : text.lines().reduce((a, b) -> b).orElse(text);
        } catch (IOException e) {
            return "";
        }
    }

    /** The extra QEMU arguments that make a new process wait, paused, for a snapshot on {@code socket}. */
    static List<String> incomingArgs(Path socket) {
        // bound while QEMU still runs as root, before it drops to the VM's ids and chroots
        return List.of("-S", "-incoming", "unix:" + socket);
    }

    /**
     * Streams a snapshot file, decompressed by a zstd process of the daemon, into the migration socket of
     * a QEMU started with {@link #incomingArgs}. zstd checks the file's checksums: a corrupt or truncated
     * one ends the stream early, QEMU then fails the load, and {@link #failure} says why.
     */
    static final class Feed implements AutoCloseable {
        private final Process zstd;
        private final Thread thread;
        private final AtomicReference<String> failure = new AtomicReference<>();
        private volatile SocketChannel channel;

        private Feed(Path memory, Path socket, ProcessHandle qemu, long deadline) throws IOException {
            zstd = helper(List.of("zstd", "-dcq", memory.toString()))
                    .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
                    .start();
            thread = Thread.ofVirtual().name("snapshot-feed").start(() -> run(socket, qemu, deadline));
        }

        static Feed start(Path memory, Path socket, ProcessHandle qemu, long deadline) throws IOException {
            return new Feed(memory, socket, qemu, deadline);
        }

        private void run(Path socket, ProcessHandle qemu, long deadline) {
            try (InputStream from = zstd.getInputStream()) {
                channel = VmProcesses.connectWhenListening(socket, qemu, deadline);
                byte[] buffer = new byte[CHUNK];
                int n;
                while ((n = from.read(buffer)) >= 0) {
                    var b = ByteBuffer.wrap(buffer, 0, n);
                    while (b.hasRemaining()) channel.write(b);
                }
                if (zstd.waitFor() != 0) {
                    String err = new String(zstd.getErrorStream().readAllBytes(), StandardCharsets.UTF_8).strip();
                    failure.set("the snapshot file is corrupt or truncated" + (err.isEmpty() ? "" : " (" + err.lines().reduce((a, c) -> c).orElse(err) + ")"));
                }
            } catch (IOException e) {
                failure.compareAndSet(null, "streaming the snapshot into QEMU failed: " + e.getMessage());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                closeChannel();
            }
        }

        /** Why the stream broke, or null while it is fine. */
        String failure() { return failure.get(); }

        /** Waits a moment for the feeder to finish, so that a failure it is about to report is seen. */
        String failureAfter(Duration wait) throws InterruptedException {
            thread.join(wait);
            return failure.get();
        }

        private void closeChannel() {
            var c = channel;
            if (c == null) return;
            try {
                c.close();
            } catch (IOException ignored) {
                // closed already
            }
        }

        @Override
        public void close() {
            zstd.destroyForcibly();
            thread.interrupt();
            closeChannel();
        }
    }

    /** QEMU refused the snapshot (or died loading it): unlike a slow load, trying it again cannot help. */
    static final class Unloadable extends EngineException {
        Unloadable(String message) { super(Kind.FAILED, message); }
    }

    /** Waits until the incoming migration has loaded; throws {@link Unloadable} if QEMU fails it, exits, or the stream broke. */
    static void awaitLoaded(Qmp qmp, ProcessHandle process, Feed feed, Duration timeout) throws IOException, EngineException, InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            if (!process.isAlive()) {
                String why = feed.failureAfter(WRITER_GRACE);
                throw new Unloadable(why != null ? why : "QEMU exited while loading the snapshot");
            }
            String status;
            try {
                status = qmp.migrationStatus();
            } catch (IOException e) { // QEMU ends itself on a failed load
                String why = feed.failureAfter(WRITER_GRACE);
                if (why != null) throw new Unloadable(why);
                throw e;
            }
            if (status.equals("completed")) return;
            if (status.equals("failed") || status.equals("cancelled")) {
                String why = feed.failureAfter(WRITER_GRACE);
                throw new Unloadable("loading the snapshot failed: " + (why != null ? why : qmp.migrationError()));
            }
            if (System.nanoTime() > deadline) throw new EngineException(Kind.FAILED, "loading the snapshot took longer than " + timeout.toSeconds() + " s");
            Thread.sleep(POLL);
        }
    }

    private static void copy(SocketChannel from, OutputStream to) throws IOException {
        var buffer = ByteBuffer.allocate(CHUNK);
        while (from.read(buffer) >= 0) {
            to.write(buffer.array(), 0, buffer.position());
            buffer.clear();
        }
    }

    /** A helper process of the daemon's, with the same cleared environment as QEMU. */
    private static ProcessBuilder helper(List<String> argv) {
        var pb = new ProcessBuilder(argv);
        pb.environment().clear();
        pb.environment().putAll(Jailer.ENVIRONMENT);
        return pb;
    }
}
