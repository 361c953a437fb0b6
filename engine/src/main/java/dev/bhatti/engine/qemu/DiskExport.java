package dev.bhatti.engine.qemu;

import dev.bhatti.engine.EngineException;
import dev.bhatti.engine.EngineException.Kind;
import dev.bhatti.engine.VmState;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.concurrent.TimeUnit;

/**
 * Writes a VM's root disk (its layer over the base image, flattened) as a raw file system image: what
 * {@code image save} turns into a new base. A hot VM stands still only while the copy runs.
 */
record DiskExport(EngineConfig config) {
    private static final Logger log = LoggerFactory.getLogger(DiskExport.class);

    /**
     * Copies the disk of {@code vm} to {@code target} (written beside it and renamed; nothing left on failure),
     * the VM left as hot, warm or cold as it was. Returns the copy's length.
     */
    long export(QemuVm vm, Path target) throws EngineException {
        Path partial = target.resolveSibling(target.getFileName() + ".partial");
        vm.lifecycle.lock();
        try {
            long started = System.nanoTime();
            switch (vm.state) {
                // stop flushes QEMU's caches to the file: it is consistent while the vCPUs stand still
                case RUNNING -> {
                    Qmp qmp = vm.qmp();
                    qmp.execute("stop", null);
                    vm.state = VmState.PAUSED;
                    try {
                        convert(vm.paths.disk(), partial);
                    } finally {
                        if (!vm.destroying) {
                            qmp.execute("cont", null);
                            vm.state = VmState.RUNNING;
                            GuestClock.correct(vm);
                        }
                    }
                }
                case PAUSED, SUSPENDED, STOPPED -> convert(vm.paths.disk(), partial);
                default -> throw vm.notRunning();
            }
            if (vm.destroying) throw new EngineException(Kind.NOT_FOUND, "the sandbox was destroyed during the copy");
            Files.move(partial, target, StandardCopyOption.ATOMIC_MOVE);
            log.info("vm {}: disk exported in {} ms", vm.id, (System.nanoTime() - started) / 1_000_000);
            return Files.size(target);
        } catch (IOException e) {
            throw new EngineException(Kind.FAILED, "could not copy the disk: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new EngineException(Kind.FAILED, "interrupted while copying the disk", e);
        } finally {
            try {
                Files.deleteIfExists(partial);
            } catch (IOException e) {
                log.warn("vm {}: could not remove {}: {}", vm.id, partial, e.getMessage());
            }
            vm.lifecycle.unlock();
        }
    }

    /** The qcow2 layer and its backing file as one sparse raw image; -U: QEMU has it open (and stands still). */
    private void convert(Path disk, Path out) throws IOException, InterruptedException, EngineException {
        Process p = new ProcessBuilder(config.qemuImg(), "convert", "-U", "-O", "raw", "-f", "qcow2", disk.toString(), out.toString())
                .redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(30, TimeUnit.MINUTES)) {
            p.destroyForcibly();
            throw new EngineException(Kind.FAILED, "qemu-img convert did not finish in 30 minutes");
        }
        if (p.exitValue() != 0) throw new EngineException(Kind.FAILED, "qemu-img convert failed: " + output.strip());
    }
}
