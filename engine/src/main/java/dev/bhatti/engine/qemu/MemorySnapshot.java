package dev.bhatti.engine.qemu;

import dev.bhatti.engine.EngineException;
import dev.bhatti.engine.EngineException.Kind;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * A VM's memory and device state on disk, written and read by QEMU's migration over an {@code exec:}
 * pipe through zstd (zero pages cost nothing, the rest compresses several-fold). The file gets its
 * final name only once QEMU reported the migration complete and zstd has written and synced all of
 * it, so a crash at any point leaves either a complete snapshot or none. The disk needs no copy: the VM is stopped while the snapshot is
 * taken and its qcow2 layer is not touched again until the restore.
 */
final class MemorySnapshot {

    private static final Duration POLL = Duration.ofMillis(5);
    private static final Duration WRITER_GRACE = Duration.ofSeconds(3);
    /** Less room than this left beside a failed snapshot means the disk filled up. */
    private static final long FULL_BELOW = 4L << 20;

    private MemorySnapshot() {}

    /** QEMU runs exec: URIs through /bin/sh -c. */
    static String shellQuote(Path p) {
        return "'" + p.toString().replace("'", "'\\''") + "'";
    }

    /** Writes the stopped VM's state into {@code files}; throws (leaving no snapshot file behind) if anything fails. */
    static void write(Qmp qmp, SnapshotFiles files, Duration timeout) throws IOException, EngineException, InterruptedException {
        Files.deleteIfExists(files.memory());
        for (Path stale : files.pieces()) Files.deleteIfExists(stale);
        // zstd ends successfully on any end of input, a cancelled migration's too: so the writer only
        // marks its file written, and the engine gives it its final name once QEMU reported completion.
        String partial = shellQuote(files.partial());
        String writer = "(zstd -q -1 -o " + partial + " && sync " + partial + " && : > " + shellQuote(files.written())
                + ") 2>" + shellQuote(files.log()) + " || mv -f " + shellQuote(files.log()) + " " + shellQuote(files.error());
        try {
            // QEMU throttles migration to 128 MiB/s by default; a local file takes what the disk gives.
            qmp.execute("migrate-set-parameters", "{\"max-bandwidth\":107374182400}");
            qmp.execute("migrate", Qmp.object(java.util.Map.of("uri", Qmp.jsonString("exec:" + writer))));
            long deadline = System.nanoTime() + timeout.toNanos();
            while (true) {
                String status = qmp.migrationStatus();
                if (status.equals("completed")) break;
                if (status.equals("failed") || status.equals("cancelled")) {
                    // QEMU sees the broken pipe before the writer has said why it broke: give it a moment
                    String why = awaitWriterError(files);
                    throw new EngineException(Kind.FAILED, "writing the memory snapshot failed: "
                            + (why.isEmpty() ? qmp.migrationError() : why));
                }
                if (System.nanoTime() > deadline) {
                    qmp.execute("migrate_cancel", null);
                    throw new EngineException(Kind.FAILED, "writing the memory snapshot took longer than " + timeout.toSeconds() + " s");
                }
                Thread.sleep(POLL);
            }
            // QEMU is done; zstd may still be flushing and syncing: wait for it (or its failure).
            while (!Files.exists(files.written())) {
                if (Files.exists(files.error())) {
                    throw new EngineException(Kind.FAILED, "writing the memory snapshot failed: " + writerError(files));
                }
                if (System.nanoTime() > deadline) throw new EngineException(Kind.FAILED, "the snapshot writer did not finish in time");
                Thread.sleep(POLL);
            }
            Files.move(files.partial(), files.memory(), java.nio.file.StandardCopyOption.ATOMIC_MOVE);
            Files.deleteIfExists(files.written());
            Files.deleteIfExists(files.log());
        } catch (IOException | EngineException | InterruptedException | RuntimeException e) {
            // a failed snapshot must not look like a usable one, nor leave its pieces around
            Files.deleteIfExists(files.memory());
            for (Path p : files.pieces()) Files.deleteIfExists(p);
            throw e;
        }
    }

    private static String awaitWriterError(SnapshotFiles files) throws InterruptedException {
        long deadline = System.nanoTime() + WRITER_GRACE.toNanos();
        while (!Files.exists(files.error()) && !Files.exists(files.written()) && System.nanoTime() < deadline) Thread.sleep(POLL);
        return writerError(files);
    }

    /** The writer's last error line, saying what to do about a full disk; empty if it reported none. */
    private static String writerError(SnapshotFiles files) {
        try {
            if (!Files.exists(files.error())) return "";
            String text = Files.readString(files.error(), StandardCharsets.UTF_8).strip();
            Files.deleteIfExists(files.error());
            // on a full disk the writer's own message may not have found room either: look at the disk
            boolean full = text.contains("No space left") || Files.getFileStore(files.dir()).getUsableSpace() < FULL_BELOW;
            if (full) return "no space left on the disk holding " + files.dir() + "; free some space and try again";
            return text.isEmpty() ? "the snapshot writer failed" : text.lines().reduce((a, b) -> b).orElse(text);
        } catch (IOException e) {
            return "";
        }
    }

    /** The extra QEMU arguments that make a new process load the snapshot and wait, paused, for {@code cont}. */
    static List<String> incomingArgs(Path memory) {
        // QEMU 7.2 waits forever when its exec: source fails early; a failed decompression (corrupt or
        // truncated file: zstd checks its checksums) therefore ends QEMU ($PPID of this shell) at once.
        return List.of("-S", "-incoming", "exec:zstd -dcq " + shellQuote(memory) + " || kill $PPID");
    }

    /** QEMU refused the snapshot (or died loading it): unlike a slow load, trying it again cannot help. */
    static final class Unloadable extends EngineException {
        Unloadable(String message) { super(Kind.FAILED, message); }
    }

    /** Waits until the incoming migration has loaded; throws {@link Unloadable} if QEMU fails it or exits. */
    static void awaitLoaded(Qmp qmp, ProcessHandle process, Duration timeout) throws IOException, EngineException, InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            if (!process.isAlive()) throw new Unloadable("QEMU exited while loading the snapshot");
            String status = qmp.migrationStatus();
            if (status.equals("completed")) return;
            if (status.equals("failed") || status.equals("cancelled")) {
                throw new Unloadable("loading the snapshot failed: " + qmp.migrationError());
            }
            if (System.nanoTime() > deadline) throw new EngineException(Kind.FAILED, "loading the snapshot took longer than " + timeout.toSeconds() + " s");
            Thread.sleep(POLL);
        }
    }
}
