package dev.bhatti.agent;

import dev.bhatti.protocol.Message;
import dev.bhatti.protocol.Stream;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.Optional;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Mounts a volume: finds the virtio disk by the serial the host gave it (probe order is not the
 * command line's), creates the mount point and mounts its ext4 there, read-only if asked. Without
 * device nodes (nodev): a volume is data, handed from sandbox to sandbox.
 */
final class MountSession {
    private static final Linker.Option ERRNO = Linker.Option.captureCallState("errno");
    private static final VarHandle ERRNO_HANDLE = Linker.Option.captureStateLayout().varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final MethodHandle MOUNT = Native.fn("mount",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, JAVA_LONG, ADDRESS), ERRNO);
    private static final MethodHandle STRERROR = Native.fn("strerror", FunctionDescriptor.of(ADDRESS, JAVA_INT));
    private static final long MS_RDONLY = 1, MS_NODEV = 4;
    private static final int EBUSY = 16;

    private final Stream stream;
    private final Path sysBlock;

    MountSession(Stream stream) { this(stream, Path.of("/sys/block")); }

    MountSession(Stream stream, Path sysBlock) {
        this.stream = stream;
        this.sysBlock = sysBlock;
    }

    void run(Message.Mount m) {
        String error = mount(m);
        try {
            stream.send(error == null ? new Message.Exit(0, false) : new Message.Error("failed", error));
        } catch (IOException e) {
            // the host went away; nothing to report to
        }
        stream.finish();
    }

    /** Null when mounted, else why not. */
    String mount(Message.Mount m) {
        Path target = Path.of(m.path()).normalize();
        if (!target.isAbsolute() || target.getParent() == null) return "the mount path must be an absolute path below /: " + m.path();
        Optional<String> device = deviceWithSerial(m.serial());
        if (device.isEmpty()) return "no disk with serial " + m.serial() + " (the volume was not attached)";
        try {
            if (Files.exists(target, LinkOption.NOFOLLOW_LINKS) && !Files.isDirectory(target, LinkOption.NOFOLLOW_LINKS)) {
                return m.path() + " exists in the image and is not a directory";
            }
            Files.createDirectories(target);
        } catch (IOException e) {
            return "cannot create the mount point " + m.path() + ": " + e.getMessage();
        }
        int errno = mount("/dev/" + device.get(), target.toString(), m.readOnly() ? MS_RDONLY | MS_NODEV : MS_NODEV);
        if (errno == 0) {
            Log.info("mounted volume " + m.serial() + " (" + device.get() + ") at " + target + (m.readOnly() ? " read-only" : ""));
            return null;
        }
        if (errno == EBUSY && mountedThere(device.get(), target)) return null; // asked twice
        return "mounting " + device.get() + " at " + m.path() + " failed: " + strerror(errno);
    }

    /** The block device (vdb, vdc...) whose virtio serial is {@code serial}. */
    Optional<String> deviceWithSerial(String serial) {
        try (var devices = Files.list(sysBlock)) {
            for (Path d : devices.toList()) {
                Path s = d.resolve("serial");
                if (Files.isReadable(s) && Files.readString(s, StandardCharsets.US_ASCII).strip().equals(serial)) {
                    return Optional.of(d.getFileName().toString());
                }
            }
        } catch (IOException e) {
            Log.info("cannot list " + sysBlock + ": " + e.getMessage());
        }
        return Optional.empty();
    }

    private static boolean mountedThere(String device, Path target) {
        try {
            return Files.readAllLines(Path.of("/proc/mounts")).stream().map(l -> l.split(" "))
                    .anyMatch(f -> f.length > 1 && f[0].equals("/dev/" + device) && f[1].equals(target.toString()));
        } catch (IOException e) {
            return false;
        }
    }

    /** 0 or errno. */
    private static int mount(String source, String target, long flags) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(Linker.Option.captureStateLayout());
            int rc = (int) MOUNT.invokeExact(state, arena.allocateFrom(source), arena.allocateFrom(target), arena.allocateFrom("ext4"), flags,
                    arena.allocateFrom(""));
            return rc == 0 ? 0 : (int) ERRNO_HANDLE.get(state, 0L);
        } catch (Throwable t) {
            return -1;
        }
    }

    private static String strerror(int errno) {
        if (errno < 0) return "the mount call failed";
        try {
            return ((MemorySegment) STRERROR.invokeExact(errno)).reinterpret(256).getString(0);
        } catch (Throwable t) {
            return "errno " + errno;
        }
    }
}
