package dev.bhatti.engine;

/** Lifecycle of an engine VM, as the engine observes it. */
public enum VmState {
    /** Booting; the agent has not answered yet. */
    STARTING,
    /** The VM process runs and its agent answered. */
    RUNNING,
    /** No VM process (never started, shut down, or destroyed). */
    STOPPED,
    /** The VM process died unexpectedly or its agent stopped answering. */
    ERROR;

    public String wire() { return name().toLowerCase(java.util.Locale.ROOT); }
}
