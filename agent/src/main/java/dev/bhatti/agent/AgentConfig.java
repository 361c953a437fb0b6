package dev.bhatti.agent;

import java.nio.file.Path;
import java.io.IOException;
import java.nio.file.Files;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Where the agent finds things in the guest. Tests on the host point these elsewhere. {@code environ}
 * holds the sandbox's environment from its create request: NUL-separated KEY=VALUE entries.
 */
record AgentConfig(Path passwd, Path workspace, String setsid, String setpriv, boolean runningAsRoot, Path environ,
                   Cgroups cgroups) {

    static final Path GUEST_ENVIRON = Path.of("/etc/bhatti/environ");
    /** The sandbox's secrets, same format, on a tmpfs: they never reach the guest's disk. */
    static final Path GUEST_SECRETS = Path.of("/run/bhatti/secrets");

    AgentConfig(Path passwd, Path workspace, String setsid, String setpriv, boolean runningAsRoot) {
        this(passwd, workspace, setsid, setpriv, runningAsRoot, workspace.resolve(".no-environ"), null);
    }

    AgentConfig(Path passwd, Path workspace, String setsid, String setpriv, boolean runningAsRoot, Path environ) {
        this(passwd, workspace, setsid, setpriv, runningAsRoot, environ, null);
    }

    static AgentConfig guest() {
        return new AgentConfig(Path.of("/etc/passwd"), Path.of("/workspace"), "setsid", "setpriv", Libc.geteuid() == 0,
                GUEST_ENVIRON, null);
    }

    /** The guest's configuration with command cgroups set up (only in a VM, where the agent owns the machine). */
    AgentConfig withCgroups(Cgroups c) {
        return new AgentConfig(passwd, workspace, setsid, setpriv, runningAsRoot, environ, c);
    }

    /** Puts a freshly spawned exec into a pooled cgroup of its own; null where there are none. Give it back with {@link #release}. */
    Path lease(long pid) {
        return cgroups == null ? null : cgroups.lease(pid);
    }

    /**
     * Hands an exec's cgroup back: to the pool when {@code reusable} and the command left nothing running
     * in it, otherwise to the sweep.
     */
    void release(Path group, boolean reusable) {
        if (cgroups != null) cgroups.giveBack(group, reusable);
    }

    /** Puts a freshly spawned command into its own cgroup; null where there are none. */
    Path contain(String kind, long pid) {
        return cgroups == null ? null : cgroups.adopt(kind, pid);
    }

    /**
     * The sandbox environment and then its secrets (in the guest only; a secret wins over a variable of
     * the same name). Read on every launch so a change applies to the next command.
     */
    Map<String, String> sandboxEnv() {
        var env = new LinkedHashMap<String, String>();
        readLines(environ.resolveSibling("tier.env"), env);
        read(environ, env);
        if (environ.equals(GUEST_ENVIRON)) read(GUEST_SECRETS, env);
        return env;
    }

    /**
     * The defaults of the image the sandbox was made from (its WORKDIR and USER), beside the environment
     * file: {@code /etc/bhatti/image}, same format. Empty for tiers.
     */
    Map<String, String> imageDefaults() {
        var defaults = new LinkedHashMap<String, String>();
        read(environ.resolveSibling("image"), defaults);
        return defaults;
    }

    /**
     * The tier's own environment ({@code /etc/bhatti/tier.env}, KEY=VALUE lines, '#' comments), under the
     * sandbox's: DISPLAY in the computer tier, where Playwright finds Chromium in the browser tier.
     */
    private static void readLines(Path file, Map<String, String> into) {
        try {
            for (String line : CachedFile.read(file).split("\n")) {
                int eq = line.indexOf('=');
                if (!line.startsWith("#") && eq > 0) into.put(line.substring(0, eq).strip(), line.substring(eq + 1).strip());
            }
        } catch (IOException e) {
            // a tier without one
        }
    }

    private static void read(Path file, Map<String, String> into) {
        try {
            for (String entry : CachedFile.read(file).split("\0")) {
                int eq = entry.indexOf('=');
                if (eq > 0) into.put(entry.substring(0, eq), entry.substring(eq + 1));
            }
        } catch (IOException e) {
            // none configured
        }
    }
}
