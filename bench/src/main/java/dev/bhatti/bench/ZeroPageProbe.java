package dev.bhatti.bench;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Whether this host's kernel backs reads of untouched anonymous memory with its shared zero page. Most do;
 * some (seen on a 6.18 "fc" kernel of a nested VM) allocate a real page instead, and then QEMU reading a
 * guest's whole RAM (a snapshot, a template, a streamed restore) makes all of it resident: the QEMU RSS
 * rows of such a host say so little about the engine that the report has to tell.
 */
final class ZeroPageProbe {
    private static final long SIZE = 64L << 20;
    private static final int PROT_READ = 1;
    private static final int MAP_PRIVATE_ANONYMOUS = 0x02 | 0x20;

    private ZeroPageProbe() {}

    static String describe() {
        try {
            Linker linker = Linker.nativeLinker();
            MethodHandle mmap = linker.downcallHandle(linker.defaultLookup().find("mmap").orElseThrow(), FunctionDescriptor.of(
                    ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT,
                    ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG));
            MethodHandle munmap = linker.downcallHandle(linker.defaultLookup().find("munmap").orElseThrow(),
                    FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG));
            MemorySegment p = (MemorySegment) mmap.invokeExact(MemorySegment.NULL, SIZE, PROT_READ, MAP_PRIVATE_ANONYMOUS, -1, 0L);
            if (p.address() == -1L) return "unknown (mmap failed)";
            MemorySegment memory = p.reinterpret(SIZE);
            long before = rssKb();
            long sum = 0;
            for (long off = 0; off < SIZE; off += 4096) sum += memory.get(ValueLayout.JAVA_BYTE, off);
            long grewMiB = (rssKb() - before) >> 10;
            int ignored = (int) munmap.invokeExact(p, SIZE);
            if (sum != 0) return "unknown (untouched memory read non-zero)";
            return grewMiB > SIZE >> 21
                    ? "none: reading 64 MiB of untouched memory made " + grewMiB + " MiB resident, so a snapshot, template or streamed restore makes a guest's whole RAM resident"
                    : "shared (reading untouched memory costs nothing)";
        } catch (Throwable e) {
            return "unknown (" + e + ")";
        }
    }

    private static long rssKb() throws Exception {
        return GuestSection.procNumbers(Files.readString(Path.of("/proc/self/status"))).getOrDefault("VmRSS", 0L);
    }
}
