package dev.bhatti.agent;

import java.util.Optional;
import java.util.Set;

/**
 * Who may run which {@code systemctl} verb, as on a Debian system without polkit rules: everyone may
 * look (status, show, list-units, ...), only root may change anything (start, stop, enable, mask, ...).
 * A verb the agent does not know is neither: it is refused as unknown, for every caller alike.
 */
final class SystemctlPolicy {

    /** What a verb does. */
    enum Access { READ_ONLY, CHANGES }

    /** Who is asking, as the kernel names the peer of the socket (SO_PEERCRED). */
    record Caller(String name, boolean root) {
        static final Caller ROOT = new Caller("root", true);
    }

    /** The verdict on one request; {@code message} says why when it is refused. */
    record Decision(boolean allowed, int exitCode, String message) {
        static final Decision ALLOW = new Decision(true, 0, "");
    }

    /** systemd's (and the LSB's) exit status for "the user had insufficient privilege". */
    static final int EXIT_NO_PERMISSION = 4;

    static final Set<String> READ_ONLY = Set.of("status", "is-active", "is-enabled", "is-failed", "show", "cat",
            "list-units", "list-unit-files", "is-system-running");
    static final Set<String> CHANGES = Set.of("start", "stop", "restart", "reload", "try-restart", "reload-or-restart",
            "try-reload-or-restart", "force-reload", "condrestart", "enable", "disable", "reenable", "preset", "mask",
            "unmask", "kill", "daemon-reload", "daemon-reexec", "reset-failed");

    private SystemctlPolicy() { }

    static Optional<Access> access(String verb) {
        if (READ_ONLY.contains(verb)) return Optional.of(Access.READ_ONLY);
        if (CHANGES.contains(verb)) return Optional.of(Access.CHANGES);
        return Optional.empty();
    }

    static Decision decide(SystemctlRequest request, Caller caller) {
        var access = access(request.verb());
        if (access.isEmpty()) return new Decision(false, 1, "Unknown command verb '" + request.verb() + "'.");
        if (access.get() == Access.READ_ONLY || caller.root()) return Decision.ALLOW;
        String what = request.units().isEmpty() ? "" : " " + String.join(" ", request.units());
        return new Decision(false, EXIT_NO_PERMISSION, "Failed to " + request.verb() + what + ": Access denied\n"
                + caller.name() + " may look at services but only root may change them: use sudo systemctl " + request.verb() + what);
    }
}
