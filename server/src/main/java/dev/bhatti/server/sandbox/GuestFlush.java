package dev.bhatti.server.sandbox;

import dev.bhatti.engine.Engine;
import dev.bhatti.engine.EngineException;
import dev.bhatti.engine.ExecCommand;
import dev.bhatti.engine.ExecListener;
import dev.bhatti.engine.Guest;
import dev.bhatti.engine.VmInfo;
import dev.bhatti.engine.VmState;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Data still in a guest's page cache would be missing from a copy of its disks: a sync first. */
public final class GuestFlush {
    private static final Logger log = LoggerFactory.getLogger(GuestFlush.class);

    private GuestFlush() {}

    /** {@link #flush} when the VM runs (a paused or suspended guest cannot answer without being woken). */
    public static void flushIfRunning(Engine engine, String vmId, String what) {
        if (engine.info(vmId).map(VmInfo::state).orElse(null) == VmState.RUNNING) flush(engine.guest(vmId), what);
    }

    /** Best effort: a guest that cannot sync leaves a crash-consistent copy, which its journal makes whole. */
    public static void flush(Guest guest, String what) {
        try {
            // an image without coreutils (distroless) has the tools disk's busybox
            if (guest.exec(ExecCommand.of("sync"), ExecListener.NONE).exitCode() == 127) {
                guest.exec(ExecCommand.of("/opt/bhatti/busybox/sync"), ExecListener.NONE);
            }
        } catch (EngineException e) {
            log.warn("{}: could not flush its writes before the copy: {}", what, e.getMessage());
        }
    }
}
