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

    private MemorySnapshot() {}

    /** QEMU runs exec: URIs through /bin/sh -c. */
    static String shellQuote(Path p) {
        return "'" + p.toString().replace("'", "'\\''") + "'";
    }

    /** Writes the stopped VM's state; throws (leaving no snapshot file behind) if anything fails. */
    static void write(Qmp qmp, VmPaths paths, Duration timeout) throws IOException, EngineException, InterruptedException {
        Path log = paths.dir().resolve("memory.zst.log");
        for (Path stale : List.of(paths.memorySnapshot(), paths.memorySnapshotPartial(), paths.memorySnapshotWritten(),
                paths.memorySnapshotError(), log)) {
            Files.deleteIfExists(stale);
        }
        // zstd ends successfully on any end of input, a cancelled migration's too: so the writer only
        // marks its file written, and the engine gives it its final name once QEMU reported completion.
        String partial = shellQuote(paths.memorySnapshotPartial());
        String writer = "(zstd -q -1 -o " + partial + " && sync " + partial + " && : > " + shellQuote(paths.memorySnapshotWritten())
                + ") 2>" + shellQuote(log) + " || mv -f " + shellQuote(log) + " " + shellQuote(paths.memorySnapshotError());
        try {
            // QEMU throttles migration to 128 MiB/s by default; a local file takes what the disk gives.
            qmp.execute("migrate-set-parameters", "{\"max-bandwidth\":107374182400}");
            qmp.execute("migrate", Qmp.object(java.util.Map.of("uri", Qmp.jsonString("exec:" + writer))));
            long deadline = System.nanoTime() + timeout.toNanos();
            while (true) {
                String status = qmp.migrationStatus();
                if (status.equals("completed")) break;
                if (status.equals("failed") || status.equals("cancelled")) {
                    throw new EngineException(Kind.FAILED, "writing the memory snapshot failed: " + qmp.migrationError()
                            + writerError(paths));
                }
                if (System.nanoTime() > deadline) {
                    qmp.execute("migrate_cancel", null);
                    throw new EngineException(Kind.FAILED, "writing the memory snapshot took longer than " + timeout.toSeconds() + " s");
                }
                Thread.sleep(POLL);
            }
            // QEMU is done; zstd may still be flushing and syncing: wait for it (or its failure).
            while (!Files.exists(paths.memorySnapshotWritten())) {
                if (Files.exists(paths.memorySnapshotError())) {
                    throw new EngineException(Kind.FAILED, "writing the memory snapshot failed" + writerError(paths));
                }
                if (System.nanoTime() > deadline) throw new EngineException(Kind.FAILED, "the snapshot writer did not finish in time");
                Thread.sleep(POLL);
            }
            Files.move(paths.memorySnapshotPartial(), paths.memorySnapshot(), java.nio.file.StandardCopyOption.ATOMIC_MOVE);
            Files.deleteIfExists(paths.memorySnapshotWritten());
            Files.deleteIfExists(log);
        } catch (IOException | EngineException | InterruptedException | RuntimeException e) {
            // a failed snapshot must not look like a usable one, nor leave its pieces around
            for (Path p : List.of(paths.memorySnapshot(), paths.memorySnapshotPartial(), paths.memorySnapshotWritten(), log)) {
                Files.deleteIfExists(p);
            }
            throw e;
        }
    }

    private static String writerError(VmPaths paths) {
        try {
            if (!Files.exists(paths.memorySnapshotError())) return "";
            String text = Files.readString(paths.memorySnapshotError(), StandardCharsets.UTF_8).strip();
            Files.deleteIfExists(paths.memorySnapshotError());
            return text.isEmpty() ? "" : " (" + text.lines().reduce((a, b) -> b).orElse(text) + ")";
        } catch (IOException e) {
            return "";
        }
    }

    /** The extra QEMU arguments that make a new process load the snapshot and wait, paused, for {@code cont}. */
    static List<String> incomingArgs(VmPaths paths) {
        // QEMU 7.2 waits forever when its exec: source fails early; a failed decompression (corrupt or
        // truncated file: zstd checks its checksums) therefore ends QEMU ($PPID of this shell) at once.
        return List.of("-S", "-incoming", "exec:zstd -dcq " + shellQuote(paths.memorySnapshot()) + " || kill $PPID");
    }

    /** Waits until the incoming migration has loaded; throws if QEMU fails it or exits. */
    static void awaitLoaded(Qmp qmp, ProcessHandle process, Duration timeout) throws IOException, EngineException, InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            if (!process.isAlive()) throw new EngineException(Kind.FAILED, "QEMU exited while loading the snapshot");
            String status = qmp.migrationStatus();
            if (status.equals("completed")) return;
            if (status.equals("failed") || status.equals("cancelled")) {
                throw new EngineException(Kind.FAILED, "loading the snapshot failed: " + qmp.migrationError());
            }
            if (System.nanoTime() > deadline) throw new EngineException(Kind.FAILED, "loading the snapshot took longer than " + timeout.toSeconds() + " s");
            Thread.sleep(POLL);
        }
    }
}
