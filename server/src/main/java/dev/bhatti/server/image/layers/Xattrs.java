package dev.bhatti.server.image.layers;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Path;

/**
 * Extended attributes of any namespace (the JDK's view reaches only {@code user.}): an image's file
 * capabilities live in {@code security.capability}. {@code l*} calls: a symlink's own attributes.
 */
final class Xattrs {
    private static final Linker LINKER = Linker.nativeLinker();
    private static final Linker.Option ERRNO = Linker.Option.captureCallState("errno");
    private static final MethodHandle LSETXATTR = LINKER.downcallHandle(LINKER.defaultLookup().find("lsetxattr").orElseThrow(),
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG,
                    ValueLayout.JAVA_INT), ERRNO);
    private static final MethodHandle LGETXATTR = LINKER.downcallHandle(LINKER.defaultLookup().find("lgetxattr").orElseThrow(),
            FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG),
            ERRNO);

    private Xattrs() {}

    static void set(Path file, String name, byte[] value) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(Linker.Option.captureStateLayout());
            MemorySegment v = arena.allocate(Math.max(1, value.length));
            v.copyFrom(MemorySegment.ofArray(value));
            int rc = (int) LSETXATTR.invokeExact(state, arena.allocateFrom(file.toString()), arena.allocateFrom(name), v, (long) value.length, 0);
            if (rc != 0) throw new IOException("setting " + name + " on " + file.getFileName() + " failed (errno " + errno(state) + ")");
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** The attribute's value, or null when the file has none of that name. */
    static byte[] get(Path file, String name) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(Linker.Option.captureStateLayout());
            MemorySegment buf = arena.allocate(65536);
            long n = (long) LGETXATTR.invokeExact(state, arena.allocateFrom(file.toString()), arena.allocateFrom(name), buf, 65536L);
            if (n < 0) {
                int errno = errno(state);
                if (errno == 61) return null; // ENODATA
                throw new IOException("reading " + name + " of " + file.getFileName() + " failed (errno " + errno + ")");
            }
            return buf.asSlice(0, n).toArray(ValueLayout.JAVA_BYTE);
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    private static final long ERRNO_OFFSET = Linker.Option.captureStateLayout().byteOffset(MemoryLayout.PathElement.groupElement("errno"));

    static int errno(MemorySegment state) { return state.get(ValueLayout.JAVA_INT, ERRNO_OFFSET); }
}
