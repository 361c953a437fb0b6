package dev.bhatti.agent;

import java.nio.file.Path;

/** Where the agent finds things in the guest. Tests on the host point these elsewhere. */
record AgentConfig(Path passwd, Path workspace, String setsid, String setpriv, boolean runningAsRoot) {

    static AgentConfig guest() {
        return new AgentConfig(Path.of("/etc/passwd"), Path.of("/workspace"), "setsid", "setpriv", Libc.geteuid() == 0);
    }
}
