package dev.bhatti.engine.qemu;

import dev.bhatti.engine.VmSpec;

/**
 * What a VM's cgroup allows its QEMU: CPU time per period from its cpus, its guest memory plus what QEMU
 * itself needs, and a bound on its threads (QEMU spawns no processes under seccomp's spawn=deny).
 */
record VmLimits(long cpuQuotaUs, long cpuPeriodUs, long memoryBytes, long pidsMax) {

    static final long PERIOD_US = 100_000;
    /** The size of TCG's translated-code buffer (QEMU's default of 1 GiB would be most of the overhead). */
    static final int TCG_CODE_MIB = 128;
    /**
     * QEMU's own memory beside the guest's RAM (its heap, device state, I/O buffers and, under TCG, the
     * translated code), with room to spare: hitting the limit means the OOM killer ends the VM. Measured
     * under TCG with the default 1 GiB code buffer: 457 MiB anonymous memory for a 256 MB guest during its
     * memory snapshot, hence the bounded buffer.
     */
    static final long OVERHEAD_BYTES = 192L << 20;
    /** QEMU's threads: main, RCU, one per vCPU, the block layer's worker pool (up to 64), migration, ... */
    static final long PIDS_BASE = 128;

    static VmLimits of(VmSpec spec, Accelerator accelerator) {
        long overhead = OVERHEAD_BYTES + (accelerator == Accelerator.TCG ? (long) TCG_CODE_MIB << 20 : 0);
        // each vCPU may use a whole core; a fifth of a core on top for QEMU's own threads (I/O, migration)
        long quota = spec.cpus() * PERIOD_US + PERIOD_US / 5;
        return new VmLimits(quota, PERIOD_US, ((long) spec.memoryMb() << 20) + overhead, PIDS_BASE + 2L * spec.cpus());
    }
}
