package dev.bhatti.agent;

import dev.bhatti.protocol.Message;
import dev.bhatti.protocol.Stream;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * After the VM resumed (from a pause or a snapshot): corrects the clock, which stood still while the
 * vCPUs were stopped, optionally takes a new hostname, and reseeds the kernel's random generator so
 * that clones of one snapshot do not share their random state, and takes a new network identity.
 */
final class ResumeSession {

    private static final MethodHandle CLOCK_SETTIME = Native.fn("clock_settime", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS));
    private static final MethodHandle SETHOSTNAME = Native.fn("sethostname", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG));
    private static final MethodHandle OPEN = Native.fn("open", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle WRITE = Native.fn("write", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG));
    private static final MethodHandle IOCTL = Native.fn("ioctl", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG));
    private static final MethodHandle CLOSE = Native.fn("close", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    private static final int CLOCK_REALTIME = 0;
    /** _IO('R', 0x07): reseed the CRNG from the input pool now (Linux 4.17+). */
    private static final long RNDRESEEDCRNG = 0x5207;

    private final Stream stream;

    ResumeSession(Stream stream) { this.stream = stream; }

    void run(Message.Resumed r) {
        var problems = new StringBuilder();
        if (!setClock(r.epochMillis())) problems.append("cannot set the clock; ");
        if (!r.hostname().isEmpty() && !setHostname(r.hostname())) problems.append("cannot set the hostname; ");
        if (r.entropy().length > 0 && !reseed(r.entropy())) problems.append("cannot reseed the random generator; ");
        // a new machine (a clone, or a VM from a booted template) gets its own machine id, drawn after the reseed
        if (!r.hostname().isEmpty() && !newMachineId()) problems.append("cannot write /etc/machine-id; ");
        if (!r.network().isEmpty()) {
            String err = GuestNetwork.apply(r.network());
            if (err != null) problems.append("cannot take the new network identity: ").append(err).append("; ");
        }
        try {
            if (problems.isEmpty()) stream.send(new Message.Exit(0, false));
            else stream.send(new Message.Error("failed", problems.substring(0, problems.length() - 2)));
        } catch (IOException e) {
            // the host went away; nothing to report to
        }
        stream.finish();
    }

    static boolean setClock(long epochMillis) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment ts = arena.allocate(16);
            ts.set(JAVA_LONG, 0, Math.floorDiv(epochMillis, 1000));
            ts.set(JAVA_LONG, 8, Math.floorMod(epochMillis, 1000) * 1_000_000L);
            return (int) CLOCK_SETTIME.invokeExact(CLOCK_REALTIME, ts) == 0;
        } catch (Throwable t) {
            return false;
        }
    }

    private static boolean setHostname(String name) {
        byte[] b = name.getBytes(StandardCharsets.UTF_8);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = arena.allocate(b.length);
            MemorySegment.copy(b, 0, s, JAVA_BYTE, 0, b.length);
            if ((int) SETHOSTNAME.invokeExact(s, (long) b.length) != 0) return false;
        } catch (Throwable t) {
            return false;
        }
        try {
            Files.writeString(Path.of("/etc/hostname"), name + "\n");
            Path hosts = Path.of("/etc/hosts");
            if (Files.exists(hosts)) Files.writeString(hosts, withHostname(Files.readString(hosts), name));
        } catch (IOException e) {
            Log.info("hostname set, but /etc/hostname or /etc/hosts not written: " + e.getMessage());
        }
        return true;
    }

    /** {@code hosts} with its 127.0.1.1 line naming {@code name} (so that sudo and friends resolve it). */
    static String withHostname(String hosts, String name) {
        var out = new StringBuilder();
        boolean found = false;
        for (String line : hosts.split("\n", -1)) {
            if (line.startsWith("127.0.1.1")) {
                if (found) continue;
                line = "127.0.1.1\t" + name;
                found = true;
            }
            out.append(line).append('\n');
        }
        if (out.length() > 0) out.setLength(out.length() - 1);
        if (!found) out.append(hosts.endsWith("\n") || hosts.isEmpty() ? "" : "\n").append("127.0.1.1\t").append(name).append('\n');
        return out.toString();
    }

    static final Path MACHINE_ID = Path.of("/etc/machine-id");

    private static boolean newMachineId() {
        // straight from the kernel's generator: java.security's SecureRandom would load its providers here,
        // seconds of class loading in an emulated guest on the path of every create
        try (var random = Files.newInputStream(Path.of("/dev/urandom"))) {
            byte[] id = random.readNBytes(16);
            Files.writeString(MACHINE_ID, java.util.HexFormat.of().formatHex(id) + "\n");
            return true;
        } catch (IOException e) {
            Log.info("cannot write " + MACHINE_ID + ": " + e.getMessage());
            return false;
        }
    }

    private static boolean reseed(byte[] entropy) {
        try (Arena arena = Arena.ofConfined()) {
            int fd = (int) OPEN.invokeExact(arena.allocateFrom("/dev/urandom"), 1 /* O_WRONLY */);
            if (fd < 0) return false;
            try {
                MemorySegment buf = arena.allocate(entropy.length);
                MemorySegment.copy(entropy, 0, buf, JAVA_BYTE, 0, entropy.length);
                if ((long) WRITE.invokeExact(fd, buf, (long) entropy.length) != entropy.length) return false;
                return (int) IOCTL.invokeExact(fd, RNDRESEEDCRNG) == 0;
            } finally {
                int ignored = (int) CLOSE.invokeExact(fd);
            }
        } catch (Throwable t) {
            return false;
        }
    }
}
