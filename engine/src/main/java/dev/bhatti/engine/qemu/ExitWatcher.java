package dev.bhatti.engine.qemu;

import dev.bhatti.engine.Engine.StateListener;
import dev.bhatti.engine.VmState;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Watches VM processes end: an exit nobody asked for (a crash, a guest shutdown) becomes the VM's state
 * and is told to the listeners; an exit asked for ({@link #endProcess}) is not. Either way what the
 * process leaves behind is cleared.
 */
final class ExitWatcher {
    private static final Logger log = LoggerFactory.getLogger(ExitWatcher.class);

    private final Jailer jailer;
    private final List<StateListener> listeners = new CopyOnWriteArrayList<>();

    ExitWatcher(Jailer jailer) { this.jailer = jailer; }

    void onStateChange(StateListener listener) { listeners.add(listener); }

    void watch(QemuVm vm, Process process) {
        ProcessHandle handle = process.toHandle();
        process.onExit().thenAccept(p -> {
            int code = p.exitValue();
            if (code == 0) {
                exited(vm, handle, VmState.STOPPED, "the guest shut down");
            } else {
                exited(vm, handle, VmState.ERROR, "the VM process ended with code " + code
                        + (code > 128 ? " (killed by signal " + (code - 128) + ")" : ""));
            }
        });
    }

    /** A process the VM was adopted with: not the daemon's child, so its exit is seen by polling. */
    void watchAdopted(QemuVm vm, ProcessHandle process) {
        process.onExit().thenRun(() -> exited(vm, process, VmState.ERROR, "the VM process ended"));
    }

    /** A VM process ended. Ignored unless it is still the VM's current process (not one ended on purpose). */
    void exited(QemuVm vm, ProcessHandle process, VmState state, String reason) {
        synchronized (vm) {
            if (!process.equals(vm.process) || vm.destroying) return;
            clearLeftovers(vm.paths, vm.id);
            if (vm.state == VmState.STOPPED || vm.state == VmState.ERROR || vm.state == VmState.SUSPENDED) return; // reported already
            vm.state = state;
            vm.detail = reason;
        }
        vm.closeConnections();
        log.warn("vm {}: {}", vm.id, reason);
        for (var l : listeners) {
            try {
                l.changed(vm.id, state, reason); // the state it ended in, not whatever a new start set since
            } catch (RuntimeException e) {
                log.error("state listener failed", e);
            }
        }
    }

    /** Ends a VM process whose state has been saved: QMP quit, then signals if it lingers. */
    void endProcess(QemuVm vm, Qmp qmp) {
        ProcessHandle p = vm.process;
        vm.process = null; // from here its exit is expected, not a crash
        try {
            qmp.execute("quit", null);
        } catch (IOException ignored) {
            // QEMU closes the socket as it quits
        }
        vm.closeConnections();
        if (p != null && !VmProcesses.awaitEnd(p, VmProcesses.STOP_GRACE)) VmProcesses.stop(p);
        clearLeftovers(vm.paths, vm.id);
    }

    /**
     * Clears what a VM's ended QEMU leaves: its cgroups, and its sockets, which a jailed QEMU cannot
     * unlink itself (they were made as root, and their names lie outside its chroot).
     */
    void clearLeftovers(VmPaths paths, String vmId) {
        jailer.release(paths, vmId);
        VmProcesses.deleteSockets(paths);
    }
}
