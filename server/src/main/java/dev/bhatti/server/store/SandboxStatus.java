package dev.bhatti.server.store;

import java.util.Locale;

/**
 * A sandbox's status: the same word in the store, the API ({@code status}), the CLI and the code.
 * Running covers hot and warm, stopped covers cold (its memory on disk, resumed by any request) and a
 * VM with neither process nor snapshot; the API's {@code thermal} (hot, warm, cold) tells them apart.
 */
public enum SandboxStatus {
    /** Its create is under way: the row exists, the VM is booting and being configured. */
    STARTING,
    RUNNING,
    STOPPED,
    /** Its VM died or could not be recovered; {@code detail} says why. */
    ERROR;

    public String wire() { return name().toLowerCase(Locale.ROOT); }

    public static SandboxStatus parse(String wire) { return valueOf(wire.toUpperCase(Locale.ROOT)); }
}
