package dev.bhatti.server.image.layers;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Path;
import java.time.Instant;

/**
 * {@code chmod} and {@code utimensat} by path. The JDK opens the file and calls {@code fchmod} or
 * {@code futimens}, and opening a device node an image holds (/dev/ptmx, /dev/loop0) opens the host's
 * device, or fails with ENODEV.
 */
final class ByPath {
    private static final Linker LINKER = Linker.nativeLinker();
    private static final MethodHandle CHMOD = LINKER.downcallHandle(LINKER.defaultLookup().find("chmod").orElseThrow(),
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT),
            Linker.Option.captureCallState("errno"));

    private static final MethodHandle UTIMENSAT = LINKER.downcallHandle(LINKER.defaultLookup().find("utimensat").orElseThrow(),
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.JAVA_INT),
            Linker.Option.captureCallState("errno"));
    private static final int AT_FDCWD = -100;
    private static final int AT_SYMLINK_NOFOLLOW = 0x100;

    private ByPath() {}

    /** Sets access and modification time of {@code file} (a symlink's own) to {@code time}. */
    static void setTimes(Path file, Instant time) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(Linker.Option.captureStateLayout());
            MemorySegment times = arena.allocate(ValueLayout.JAVA_LONG, 4); // two struct timespec
            for (int i = 0; i < 2; i++) {
                times.setAtIndex(ValueLayout.JAVA_LONG, 2L * i, time.getEpochSecond());
                times.setAtIndex(ValueLayout.JAVA_LONG, 2L * i + 1, time.getNano());
            }
            int rc = (int) UTIMENSAT.invokeExact(state, AT_FDCWD, arena.allocateFrom(file.toString()), times, AT_SYMLINK_NOFOLLOW);
            if (rc != 0) throw new IOException("setting the times of " + file.getFileName() + " failed (errno " + Xattrs.errno(state) + ")");
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** Sets the mode bits (setuid, setgid and sticky included) of {@code file}, which is no symlink. */
    static void chmod(Path file, int mode) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(Linker.Option.captureStateLayout());
            int rc = (int) CHMOD.invokeExact(state, arena.allocateFrom(file.toString()), mode & 07777);
            if (rc != 0) throw new IOException("chmod of " + file.getFileName() + " failed (errno " + Xattrs.errno(state) + ")");
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }
}
