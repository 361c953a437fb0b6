package dev.bhatti.engine;

import java.util.Locale;

/**
 * Lifecycle of an engine VM, as the engine observes it. RUNNING, PAUSED and SUSPENDED are the thermal
 * states hot, warm and cold: vCPUs running; vCPUs stopped with memory held; memory, devices and disk
 * snapshotted to disk with no VM process at all.
 */
public enum VmState {
    /** Booting or restoring; the agent has not answered yet. */
    STARTING,
    /** The VM process runs and its agent answered (hot). */
    RUNNING,
    /** The vCPUs are stopped, memory is kept; resuming takes well under a millisecond (warm). */
    PAUSED,
    /** Snapshotted to disk, no VM process; start restores it exactly where it was (cold). */
    SUSPENDED,
    /** No VM process and no snapshot (never started, shut down, or the process died). */
    STOPPED,
    /** The VM process died unexpectedly or its agent stopped answering. */
    ERROR;

    public String wire() { return name().toLowerCase(Locale.ROOT); }

    /** hot, warm or cold; empty when the VM is neither running nor resumable. */
    public String thermal() {
        return switch (this) {
            case RUNNING -> "hot";
            case PAUSED -> "warm";
            case SUSPENDED -> "cold";
            default -> "";
        };
    }
}
