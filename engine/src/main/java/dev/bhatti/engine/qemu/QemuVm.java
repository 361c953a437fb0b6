package dev.bhatti.engine.qemu;

import dev.bhatti.engine.VmSpec;
import dev.bhatti.engine.VmState;
import dev.bhatti.engine.agent.AgentClient;

import java.util.concurrent.locks.ReentrantLock;

/** One VM the engine tracks: its files, its QEMU process and its agent and QMP connections. */
final class QemuVm {
    final String id;
    final VmPaths paths;
    final ReentrantLock agentLock = new ReentrantLock();
    /** Held by every state transition (pause, resume, suspend, start, destroy): one at a time per VM. */
    final ReentrantLock lifecycle = new ReentrantLock();
    volatile VmSpec spec;
    volatile ProcessHandle process;
    volatile AgentClient agent;
    volatile Qmp qmp;
    /** Its uid/gid and cgroups: set when its QEMU is started, read back from its directory on adoption. */
    volatile VmIdentity identity;
    volatile VmState state = VmState.STARTING;
    volatile String detail = "";
    /** Set once destroy begins, so that the exit it causes is not reported as a crash. */
    volatile boolean destroying;

    QemuVm(String id, VmPaths paths) {
        this.id = id;
        this.paths = paths;
    }

    long pid() {
        var p = process;
        return p == null ? 0 : p.pid();
    }
}
