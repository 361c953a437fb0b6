package dev.bhatti.engine.qemu;

import dev.bhatti.engine.EngineException;
import dev.bhatti.engine.EngineException.Kind;
import dev.bhatti.engine.VmSpec;
import dev.bhatti.engine.VmState;
import dev.bhatti.engine.agent.AgentClient;

import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.ReentrantLock;

/** One VM the engine tracks: its files, its QEMU process and its agent and QMP connections. */
final class QemuVm {
    /** How long connecting to a running guest's agent may take. */
    static final Duration AGENT_CONNECT_TIMEOUT = Duration.ofSeconds(10);

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

    /** Its QMP connection, opened on first use (QEMU accepts one QMP client at a time). */
    Qmp qmp() throws IOException {
        var q = qmp;
        if (q != null && q.isOpen()) return q;
        qmp = Qmp.connect(paths.qmpSocket());
        return qmp;
    }

    /** Drops its agent and QMP connections (they lead to a process that is ending or gone). */
    void closeConnections() {
        var a = agent;
        agent = null;
        if (a != null) a.close();
        var q = qmp;
        qmp = null;
        if (q != null) q.close();
    }

    /** The live agent connection, reconnecting once if the channel dropped while QEMU still runs. */
    AgentClient liveAgent() throws EngineException, InterruptedException {
        var a = agent;
        if (a != null && a.isOpen()) return a;
        agentLock.lock();
        try {
            a = agent;
            if (a != null && a.isOpen()) return a;
            var p = process;
            if (p == null || !p.isAlive()) throw new EngineException(Kind.NOT_RUNNING, "the VM process is not running");
            agent = AgentClient.connect(paths.agentSocket(), AGENT_CONNECT_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            return agent;
        } catch (IOException | TimeoutException e) {
            throw new EngineException(Kind.FAILED, "cannot reach the sandbox's agent: " + e.getMessage(), e);
        } finally {
            agentLock.unlock();
        }
    }

    EngineException notRunning() {
        return new EngineException(Kind.NOT_RUNNING, "sandbox is " + state.wire() + (detail.isEmpty() ? "" : ": " + detail));
    }
}
