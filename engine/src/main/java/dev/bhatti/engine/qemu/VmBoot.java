package dev.bhatti.engine.qemu;

import dev.bhatti.engine.EngineException;
import dev.bhatti.engine.EngineException.Kind;
import dev.bhatti.engine.VmSpec;
import dev.bhatti.engine.VmState;
import dev.bhatti.engine.VolumeDisk;
import dev.bhatti.engine.agent.AgentClient;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/** Starts QEMU processes in their jails: a VM's disk, its boot up to its agent's hello, and why a boot failed. */
record VmBoot(EngineConfig config, Accelerator accelerator, ImageCatalog images, QemuCommand command, Jailer jailer, ExitWatcher exits) {
    private static final Logger log = LoggerFactory.getLogger(VmBoot.class);
    /** Free space a sandbox of an image gets beyond the image's own, unless its create says how large (like a tier's 2 GB disk). */
    static final int IMAGE_ROOM_MB = 2048;

    /** Starts QEMU from the VM's disk and waits for its agent. Called with the lifecycle lock held. */
    void boot(QemuVm vm, List<String> extraArgs) throws IOException, EngineException, InterruptedException {
        boot(vm, extraArgs, false);
    }

    /**
     * {@code neutral}: the guest boots with no sandbox's identity (to become a template); the caller gives
     * it its own once the agent answers.
     */
    void boot(QemuVm vm, List<String> extraArgs, boolean neutral) throws IOException, EngineException, InterruptedException {
        VmProcesses.deleteSockets(vm.paths);
        if (vm.spec.memoryFile()) freshMemoryFile(vm);
        vm.state = VmState.STARTING;
        Process process = startQemu(vm, extraArgs, neutral);
        vm.process = process.toHandle();
        vm.agent = awaitAgent(vm, process);
        try {
            mountVolumes(vm);
        } catch (EngineException e) {
            // a VM without the data it was given must not run as if it had it
            vm.closeConnections();
            VmProcesses.stop(process.toHandle());
            vm.process = null;
            jailer.release(vm.paths, vm.id);
            vm.state = VmState.STOPPED;
            throw e;
        }
        vm.state = VmState.RUNNING;
        vm.detail = "";
        exits.watch(vm, process);
        log.info("vm {} running (pid {}, {} cpu, {} MB, {})", vm.id, process.pid(), vm.spec.cpus(), vm.spec.memoryMb(), accelerator.wire());
    }

    /**
     * A booting guest starts from zeroed memory. Where the disk has no room for all of it, the VM keeps
     * its memory in QEMU's instead (recorded in its spec): it runs all the same, and a stop then streams
     * and compresses its memory, failing with a clear error if that does not fit either.
     */
    private static void freshMemoryFile(QemuVm vm) throws IOException {
        try {
            MemoryFile.createFresh(vm.paths.ram(), vm.spec.memoryMb());
        } catch (MemoryFile.NoSpace e) {
            log.warn("vm {}: {}; its memory stays in QEMU's own", vm.id, e.getMessage());
            vm.spec = vm.spec.withMemoryFile(false);
            SpecFile.write(vm.paths.spec(), vm.spec);
        }
    }

    /** Each boot mounts the VM's volumes; after a restore they are mounted already, in the guest's memory. */
    private static void mountVolumes(QemuVm vm) throws EngineException, InterruptedException {
        var volumes = vm.spec.volumes();
        for (int i = 0; i < volumes.size(); i++) {
            vm.agent.mount(VolumeDisk.serial(i), volumes.get(i).mount(), volumes.get(i).readOnly());
        }
    }

    void checkImages(VmSpec spec) throws EngineException {
        if (spec.fromImage()) {
            if (!Files.isRegularFile(spec.rootfs())) {
                throw new EngineException(Kind.INVALID, "the root filesystem of image '" + spec.tier() + "' is missing (" + spec.rootfs() + ")");
            }
            Path tools = spec.tools() != null ? spec.tools() : images.tools();
            if (!Files.isRegularFile(tools)) {
                throw new EngineException(Kind.INVALID, "missing the tools disk " + tools + " that images boot with; rebuild it with: bhatti tier build minimal");
            }
        } else if (!Files.isRegularFile(images.rootfs(spec.tier()))) {
            var known = images.tiers();
            throw new EngineException(Kind.INVALID, "no image for tier '" + spec.tier() + "'"
                    + (known.isEmpty() ? "; build one with: bhatti tier build minimal" : "; available: " + String.join(", ", known)));
        }
        for (var v : spec.volumes()) {
            if (!Files.isRegularFile(v.file())) throw new EngineException(Kind.INVALID, "the volume file " + v.file() + " is missing");
        }
        for (Path p : List.of(images.kernel(), images.initramfs())) {
            if (!Files.isRegularFile(p)) {
                throw new EngineException(Kind.INVALID, "missing " + p + "; rebuild the images with: bhatti tier build " + spec.tier());
            }
        }
    }

    /**
     * The spec a new VM keeps: an image's rootfs and the tools disk of today pinned (hard links by inode),
     * so a rebuilt tools disk or a deleted image leaves this VM and its snapshots as they were.
     */
    VmSpec pinned(VmSpec spec) throws IOException {
        if (!spec.fromImage()) return spec;
        VmSpec pinned = spec.withImage(HostFiles.pinned(spec.rootfs()), spec.tools() != null ? spec.tools() : HostFiles.pinned(images.tools()));
        // an image's file system is sized to its content: without room of its own the first install would fill it
        return pinned.diskMb() > 0 ? pinned : pinned.withDiskMb((int) (Files.size(spec.rootfs()) >> 20) + IMAGE_ROOM_MB);
    }


    /** The VM's copy-on-write disk over its base image (the tier's, or the image's pinned rootfs). */
    void createDisk(VmSpec spec, VmPaths paths) throws IOException, InterruptedException, EngineException {
        Path base = spec.fromImage() ? spec.rootfs() : HostFiles.pinned(images.rootfs(spec.tier()));
        var argv = new ArrayList<>(List.of(config.qemuImg(), "create", "-q", "-f", "qcow2", "-F", "raw", "-b", base.toString(),
                paths.disk().toString()));
        if (spec.diskMb() > 0) {
            long baseMb = Files.size(base) >> 20;
            if (spec.diskMb() < baseMb) {
                throw new EngineException(Kind.INVALID, "disk_size_mb " + spec.diskMb() + " is smaller than the image (" + baseMb + " MB)");
            }
            argv.add(spec.diskMb() + "M");
        }
        var pb = new ProcessBuilder(argv).redirectErrorStream(true);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (p.waitFor() != 0) throw new EngineException(Kind.FAILED, "qemu-img create failed: " + out.strip());
    }

    /**
     * Starts the VM's QEMU in its jail: its cgroups (entered before QEMU's first instruction), its ids and
     * chroot, seccomp, and an environment holding nothing but PATH.
     */
    Process startQemu(QemuVm vm, List<String> extraArgs) throws IOException {
        return startQemu(vm, extraArgs, false);
    }

    Process startQemu(QemuVm vm, List<String> extraArgs, boolean neutral) throws IOException {
        VmSpec spec = vm.spec;
        VmPaths paths = vm.paths;
        VmIdentity id = jailer.prepare(paths, spec, accelerator);
        vm.identity = id;
        var argv = new ArrayList<String>();
        // The launcher's shell, `ip netns exec` and setsid all exec in place: the pid stays QEMU's. The
        // launcher goes first: it enters the cgroups through the host's /sys, which `ip netns exec`
        // replaces with the namespace's (where the VM's cgroup directories do not exist).
        argv.addAll(jailer.launcher(id, paths, spec));
        if (config.netns() != null) argv.addAll(List.of("ip", "netns", "exec", config.netns()));
        argv.addAll(jailer.tapOpener(spec));
        argv.add("setsid"); // own session: a Ctrl-C to the daemon must not kill the VMs
        argv.addAll(command.argv(spec, paths, images, jailer.enabled(), neutral));
        argv.addAll(jailer.qemuArgs(id, paths));
        argv.addAll(extraArgs);
        var pb = new ProcessBuilder(argv).directory(paths.dir().toFile());
        pb.environment().clear();
        pb.environment().putAll(Jailer.ENVIRONMENT);
        pb.redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(paths.qemuLog().toFile()))
                .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()));
        return pb.start();
    }

    /**
     * Waits for the agent's hello while checking every second that QEMU still runs and that the console
     * shows no fatal boot error, so a broken boot fails fast with its reason instead of timing out.
     */
    private AgentClient awaitAgent(QemuVm vm, Process process) throws EngineException, InterruptedException {
        long deadline = System.nanoTime() + config.bootTimeout().toNanos();
        var result = new CompletableFuture<AgentClient>();
        Thread connecting = Thread.ofVirtual().start(() -> {
            try {
                var channel = VmProcesses.connectWhenListening(vm.paths.agentSocket(), process.toHandle(), deadline);
                result.complete(AgentClient.over(channel, config.bootTimeout().toMillis(), TimeUnit.MILLISECONDS));
            } catch (Exception e) {
                result.completeExceptionally(e);
            }
        });
        try {
            while (true) {
                try {
                    return result.get(1, TimeUnit.SECONDS);
                } catch (TimeoutException e) {
                    failIfBootEnded(vm, process);
                    if (System.nanoTime() > deadline) {
                        throw bootFailure(vm, "the guest agent did not answer within " + config.bootTimeout().toSeconds() + " s");
                    }
                } catch (ExecutionException e) {
                    failIfBootEnded(vm, process); // a lost connection is the symptom; say the cause when there is one
                    throw bootFailure(vm, "agent connection failed: " + e.getCause());
                }
            }
        } finally {
            if (!result.isDone()) {
                connecting.interrupt();
                result.thenAccept(AgentClient::close);
            }
        }
    }

    /**
     * Throws when the boot cannot succeed any more: the console shows a fatal error (checked first, as
     * the guest powers off after it and QEMU then exits) or QEMU has exited.
     */
    private void failIfBootEnded(QemuVm vm, Process process) throws EngineException {
        String fatal = VmProcesses.fatalConsoleLine(vm.paths);
        if (fatal != null) throw bootFailure(vm, fatal);
        if (!process.isAlive()) throw bootFailure(vm, "QEMU exited with code " + process.exitValue() + " during boot");
    }

    private EngineException bootFailure(QemuVm vm, String reason) {
        String tail = VmProcesses.tail(vm.paths.console(), 15) + VmProcesses.tail(vm.paths.qemuLog(), 5);
        return new EngineException(Kind.FAILED, "boot failed: " + reason + (tail.isBlank() ? "" : "\n--- console ---\n" + tail));
    }
}
