package dev.bhatti.engine.qemu;

import dev.bhatti.engine.EngineException;
import dev.bhatti.engine.VmState;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Sets a guest's clock after its vCPUs stood still (a pause, a snapshot, a restore). */
final class GuestClock {
    private static final Logger log = LoggerFactory.getLogger(GuestClock.class);
    private static final int CLOCK_ATTEMPTS = 2;

    private GuestClock() {}

    /**
     * Sets the guest's clock, which stood still while its vCPUs were stopped. Sent without waiting (a
     * wake-up must stay fast); a failure is logged, not fatal. A restored guest reopens its agent port,
     * which can cut the connection the correction went out on; it is then sent once more on a new one.
     */
    static void correct(QemuVm vm) { correct(vm, 1); }

    private static void correct(QemuVm vm, int attempt) {
        try {
            vm.liveAgent().resumedAsync(System.currentTimeMillis(), why -> {
                if (attempt < CLOCK_ATTEMPTS && vm.state == VmState.RUNNING && !vm.destroying) {
                    log.info("vm {}: the clock correction was lost ({}); sending it again", vm.id, why);
                    Thread.ofVirtual().start(() -> correct(vm, attempt + 1));
                } else if (vm.state == VmState.RUNNING) {
                    log.warn("vm {}: could not correct the guest clock: {}", vm.id, why);
                } else {
                    log.info("vm {}: clock correction dropped, the VM is {} again ({})", vm.id, vm.state, why); // corrected at its next wake
                }
            });
        } catch (EngineException e) {
            log.warn("vm {}: could not correct the guest clock: {}", vm.id, e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
