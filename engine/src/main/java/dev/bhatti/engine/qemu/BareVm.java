package dev.bhatti.engine.qemu;

import dev.bhatti.engine.VmSpec;
import dev.bhatti.engine.agent.AgentClient;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * One VM booted without the daemon, for the benchmark's floors: the engine's own QEMU command line
 * ({@link QemuCommand}, same kernel, initramfs and root image, a qcow2 overlay like a sandbox's disk) and
 * the engine's {@link AgentClient} and {@link Qmp}, but no store, no API, no thermal manager and no jail.
 * Public for the benchmark, which measures the daemon's cost against it; nothing in the daemon uses it.
 */
public final class BareVm implements AutoCloseable {

    private final VmPaths paths;
    private final Process process;
    private final AgentClient agent;
    private final Qmp qmp;
    /** Nanoseconds from starting qemu-img to the agent's hello. */
    private final long bootNanos;

    private BareVm(VmPaths paths, Process process, AgentClient agent, Qmp qmp, long bootNanos) {
        this.paths = paths;
        this.process = process;
        this.agent = agent;
        this.qmp = qmp;
        this.bootNanos = bootNanos;
    }

    /** The accelerator the engine would pick on this host ("auto"). */
    public static String accelerator() { return Accelerator.detect("auto").wire(); }

    /**
     * Creates the overlay disk, starts QEMU and waits for the agent's hello, as the engine's create does.
     * {@code workDir} must be short (Unix socket paths hold 107 bytes).
     */
    public static BareVm boot(Path images, Path workDir, String tier, int cpus, int memoryMb) throws Exception {
        var catalog = new ImageCatalog(images);
        var paths = new VmPaths(workDir);
        Files.createDirectories(workDir);
        if (!paths.socketPathsFit()) throw new IOException("work dir path too long for Unix sockets: " + workDir);
        var spec = new VmSpec(Long.toHexString(System.nanoTime()), "bare", cpus, memoryMb, tier).withBalloon(true); // as the engine creates them by default
        var accel = Accelerator.detect("auto");
        var command = new QemuCommand("qemu-system-x86_64", accel, HostCpu.tscKhz(Path.of("/proc/cpuinfo")));

        long t0 = System.nanoTime();
        run("qemu-img", "create", "-q", "-f", "qcow2", "-F", "raw", "-b", catalog.rootfs(tier).toString(), paths.disk().toString());
        Process qemu = new ProcessBuilder(command.argv(spec, paths, catalog))
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(paths.qemuLog().toFile()))
                .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
                .start();
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(180);
            while (!Files.exists(paths.agentSocket())) {
                if (!qemu.isAlive()) throw new IOException("QEMU exited with " + qemu.exitValue() + ": " + tail(paths.qemuLog()));
                if (System.nanoTime() > deadline) throw new IOException("no agent socket after 180 s");
                Thread.sleep(5);
            }
            AgentClient agent = AgentClient.connect(paths.agentSocket(), 180, TimeUnit.SECONDS);
            long booted = System.nanoTime() - t0;
            Qmp qmp = Qmp.connect(paths.qmpSocket());
            return new BareVm(paths, qemu, agent, qmp, booted);
        } catch (Exception e) {
            qemu.destroyForcibly().waitFor();
            throw e;
        }
    }

    public long bootNanos() { return bootNanos; }

    public AgentClient agent() { return agent; }

    /** QMP {@code stop}: the vCPUs halt (the engine's pause, nothing else). */
    public void qmpStop() throws IOException { qmp.execute("stop", null); }

    /** QMP {@code cont}: the vCPUs run again. */
    public void qmpCont() throws IOException { qmp.execute("cont", null); }

    /** Ends QEMU and deletes the VM's files. */
    @Override
    public void close() {
        agent.close();
        try {
            qmp.execute("quit", null);
        } catch (IOException ignored) {
            // it is going away anyway
        }
        qmp.close();
        try {
            if (!process.waitFor(5, TimeUnit.SECONDS)) process.destroyForcibly().waitFor();
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
        try (Stream<Path> files = Files.walk(paths.dir())) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        } catch (IOException ignored) {
            // a temp dir; bench/run removes its parent
        }
    }

    private static void run(String... argv) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(new ArrayList<>(List.of(argv))).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        if (p.waitFor() != 0) throw new IOException(String.join(" ", argv) + " failed: " + out.strip());
    }

    private static String tail(Path file) {
        try {
            List<String> lines = Files.readAllLines(file);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 5), lines.size()));
        } catch (IOException e) {
            return "";
        }
    }
}
