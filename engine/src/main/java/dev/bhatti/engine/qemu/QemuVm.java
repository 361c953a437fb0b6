package dev.bhatti.engine.qemu;

import dev.bhatti.engine.VmState;
import dev.bhatti.engine.agent.AgentClient;

import java.util.concurrent.locks.ReentrantLock;

/** One VM the engine tracks: its files, its QEMU process and its agent connection. */
final class QemuVm {
    final String id;
    final VmPaths paths;
    final ReentrantLock agentLock = new ReentrantLock();
    volatile ProcessHandle process;
    volatile AgentClient agent;
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
