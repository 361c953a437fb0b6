package dev.bhatti.server;

import dev.bhatti.engine.qemu.HostFiles;

import java.nio.file.Files;
import java.nio.file.Path;

/** What the data directory holds, for the operator's local status report (the daemon need not run). */
public final class DataUsage {
    private DataUsage() {}

    /** Bytes the sandboxes', snapshots' and volumes' files take on disk. */
    public static long diskBytes(Path dataDir) {
        return HostFiles.usage(dataDir.resolve("sandboxes")) + HostFiles.usage(dataDir.resolve("snapshots"))
                + HostFiles.usage(dataDir.resolve("volumes"));
    }

    /** Whether the sandbox is cold: its memory is on disk. */
    public static boolean isCold(Path dataDir, String sandboxId) {
        return Files.exists(dataDir.resolve("sandboxes").resolve(sandboxId).resolve("memory.zst"));
    }
}
