package dev.bhatti.engine.qemu;

import dev.bhatti.engine.EngineException;
import dev.bhatti.engine.ExecCommand;
import dev.bhatti.engine.ExecListener;
import dev.bhatti.engine.GuestNet;
import dev.bhatti.engine.VmSpec;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Booted templates: the memory and disk of a VM taken the moment its agent first answered, which later
 * creates of the same kind of VM restore instead of booting (a boot is mostly the kernel and the agent's
 * JVM starting; a restore skips both). The VM a template is taken of boots with a neutral identity
 * ({@link QemuCommand#NEUTRAL_NET}) and takes its own only afterwards, as every VM restored from the
 * template does, so a template holds nothing of any sandbox: no name, no address, no user's data.
 *
 * <p>A template fits a VM when everything its memory depends on is the same: the QEMU command line
 * (cpus, memory, disk size, devices, kernel arguments), and the exact files of QEMU, the kernel, the
 * initramfs, the base image and the tools disk (by inode, size and time: a rebuilt image or agent is a
 * new file). The template's id is a hash of all of it, so a change simply finds no template. VMs with
 * volumes never use one (their disks are part of the device state). At most {@link #MAX} templates are
 * kept, the least recently used removed first; one whose base image is gone is removed with it.
 */
final class Templates {
    private static final Logger log = LoggerFactory.getLogger(Templates.class);
    static final int MAX = 8;
    /** Changes when what a template holds changes shape; old ones then no longer match. */
    private static final String FORMAT = "bhatti-template-1";
    private static final VmPaths CANONICAL = new VmPaths(Path.of("/template"));

    private final Path root;
    private final SnapshotStore store;
    private final Checkpoints checkpoints;
    private final QemuCommand command;
    private final ImageCatalog images;
    private final String qemuBinary;
    /** Templates being captured now: one capture per id at a time. */
    private final Set<String> capturing = ConcurrentHashMap.newKeySet();

    Templates(Path root, Jailer jailer, QemuCommand command, ImageCatalog images, String qemuBinary) {
        this.root = root;
        this.store = new SnapshotStore(root);
        this.checkpoints = new Checkpoints(store, jailer);
        this.command = command;
        this.images = images;
        this.qemuBinary = qemuBinary;
        store.list(); // removes captures a crash left unfinished
    }

    /** The id of the template VMs like {@code spec} (pinned) restore, or empty when they cannot use one. */
    Optional<String> idFor(VmSpec spec) {
        if (!spec.volumes().isEmpty()) return Optional.empty();
        try {
            var key = new StringBuilder(FORMAT).append('\n');
            VmSpec canonical = canonical(spec);
            key.append(String.join(" ", command.argv(canonical, CANONICAL, images, false, true))).append('\n');
            key.append(identity(resolveBinary(qemuBinary))).append('\n');
            key.append(identity(images.kernel())).append('\n').append(identity(images.initramfs())).append('\n');
            key.append(identity(spec.fromImage() ? spec.rootfs() : images.rootfs(spec.tier()))).append('\n');
            if (spec.tools() != null) key.append(identity(spec.tools())).append('\n');
            byte[] hash = MessageDigest.getInstance("SHA-256").digest(key.toString().getBytes(StandardCharsets.UTF_8));
            return Optional.of(HexFormat.of().formatHex(hash).substring(0, 32));
        } catch (IOException | NoSuchAlgorithmException e) {
            log.debug("no template for {}: {}", spec.id(), e.getMessage());
            return Optional.empty();
        }
    }

    /** The complete template's directory, marked as just used; empty if there is none. */
    Optional<Path> find(String id) {
        try {
            Path dir = store.dir(id);
            if (!Files.isRegularFile(new SnapshotFiles(dir).memory()) || !Files.isRegularFile(SnapshotStore.disk(dir))) return Optional.empty();
            Files.setLastModifiedTime(dir, FileTime.from(Instant.now()));
            return Optional.of(dir);
        } catch (EngineException | IOException e) {
            return Optional.empty();
        }
    }

    VmSpec savedSpec(String id) throws EngineException { return store.savedSpec(id); }

    static final int WARM_UP_EXECS = 8;

    /** Free disk a template never takes: it is an optimisation, and must not fill the disk sandboxes need. */
    static final long RESERVE_BYTES = 1L << 30;

    /**
     * Claims the capture of template {@code id} for a VM like {@code spec}: false if it exists, another
     * create is capturing it, or the data directory's disk has no more free than the guest's memory (the
     * most its snapshot can take) plus {@link #RESERVE_BYTES}.
     */
    boolean claim(String id, VmSpec spec) {
        if (find(id).isPresent() || freeBytes() < ((long) spec.memoryMb() << 20) + RESERVE_BYTES) return false;
        return capturing.add(id);
    }

    private long freeBytes() {
        for (Path p = root; p != null; p = p.getParent()) {
            try {
                if (Files.exists(p)) return Files.getFileStore(p).getUsableSpace();
            } catch (IOException e) {
                return 0;
            }
        }
        return 0;
    }

    /**
     * Takes the template of {@code vm}, booted neutral and not yet given to anyone. A failure costs only
     * the template: the VM goes on. The caller releases the claim, whatever happened to the boot.
     */
    void capture(QemuVm vm, String id) {
        try {
            warmUp(vm);
            long bytes = checkpoints.checkpoint(vm, id);
            log.info("template {} taken of vm {} ({} MiB); later creates like it restore it", id, vm.id, bytes >> 20);
            evict();
        } catch (EngineException | RuntimeException e) {
            log.warn("could not take template {} of vm {}: {}", id, vm.id, e.getMessage());
        }
    }

    void release(String id) { capturing.remove(id); }

    /**
     * Runs once, in the template, what every VM restored from it runs first: an exec and a resume (its
     * classes loaded, its native calls linked, compiled), which would otherwise cost each new VM seconds
     * of an emulated CPU. Nothing of it is anyone's: no hostname, no network, no entropy is given here.
     */
    private static void warmUp(QemuVm vm) throws EngineException {
        try {
            var agent = vm.liveAgent();
            // a few: the first ones load and link what every exec needs (threads, cgroup pool, native calls)
            for (int i = 0; i < WARM_UP_EXECS; i++) agent.exec(ExecCommand.of("true"), ExecListener.NONE);
            agent.resumed(System.currentTimeMillis(), "", new byte[0], "");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new EngineException(EngineException.Kind.FAILED, "interrupted while warming the template up", e);
        }
    }

    /** Removes a template that failed to restore: the next create boots and takes a new one. */
    void discard(String id) {
        try {
            store.delete(id);
            log.warn("template {} removed: it did not restore", id);
        } catch (EngineException e) {
            log.warn("could not remove template {}: {}", id, e.getMessage());
        }
    }

    /** The templates' directories (their disk layers and specs name base images that must stay). */
    List<Path> dirs() {
        var dirs = new ArrayList<Path>();
        for (String id : store.complete()) {
            try {
                dirs.add(store.dir(id));
            } catch (EngineException e) {
                // listed ids are valid
            }
        }
        return dirs;
    }

    /** Removes templates whose base image or tools disk is gone (deleted, rebuilt): none fits again. */
    void dropStale() {
        for (Path dir : dirs()) {
            try {
                VmSpec saved = SpecFile.read(SnapshotStore.spec(dir));
                Optional<Path> base = BasePins.backing(SnapshotStore.disk(dir));
                boolean stale = base.isEmpty() || orphaned(base.get()) || (saved.tools() != null && orphaned(saved.tools()));
                if (stale) {
                    HostFiles.deleteTree(dir);
                    log.info("template {} removed: its base image is gone", dir.getFileName());
                }
            } catch (IOException e) {
                HostFiles.deleteTree(dir);
            }
        }
    }


    private void evict() {
        var dirs = dirs();
        if (dirs.size() <= MAX) return;
        dirs.sort(Comparator.comparing(Templates::lastUsed));
        for (Path dir : dirs.subList(0, dirs.size() - MAX)) {
            HostFiles.deleteTree(dir);
            log.info("template {} removed: the least recently used of more than {}", dir.getFileName(), MAX);
        }
    }

    private static FileTime lastUsed(Path dir) {
        try {
            return Files.getLastModifiedTime(dir);
        } catch (IOException e) {
            return FileTime.fromMillis(0);
        }
    }

    /** A pin whose original is gone has one link left: only VMs and snapshots keep it. Unknown counts as gone. */
    private static boolean orphaned(Path pin) {
        return !Files.exists(pin) || BasePins.links(pin) <= 1;
    }

    /** The spec as every VM of its kind has it: no id, name or address of its own. */
    private static VmSpec canonical(VmSpec spec) {
        GuestNet net = spec.net() == null ? null : QemuCommand.NEUTRAL_NET;
        return new VmSpec("template", "template", spec.cpus(), spec.memoryMb(), spec.tier(), net, spec.rootfs(), spec.tools(),
                spec.diskMb(), List.of(), spec.balloon(), spec.memoryFile());
    }

    private static String identity(Path file) throws IOException {
        Path real = file.toRealPath();
        return real + " " + Files.getAttribute(real, "unix:ino") + " " + Files.size(real) + " " + Files.getLastModifiedTime(real).toMillis();
    }

    private static Path resolveBinary(String binary) throws IOException {
        if (binary.contains("/")) return Path.of(binary);
        for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(":")) {
            if (dir.isEmpty()) continue;
            Path p = Path.of(dir, binary);
            if (Files.isExecutable(p)) return p;
        }
        throw new IOException(binary + " is not in PATH");
    }
}
