package dev.bhatti.engine.qemu;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.SocketException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/** The host side of QEMU processes: finding, stopping and waiting for them, and reading their logs. */
final class VmProcesses {
    private static final Logger log = LoggerFactory.getLogger(VmProcesses.class);
    static final Duration STOP_GRACE = Duration.ofSeconds(3);

    private VmProcesses() {}

    /**
     * Connects to a socket of a QEMU that is starting up. The socket's file appears at bind(), a moment
     * before listen(), and a connect in between is refused; so a missing file or a refusal is tried again
     * every 10 ms while QEMU lives, until {@code deadline} (a System.nanoTime() value).
     */
    static SocketChannel connectWhenListening(Path socket, ProcessHandle qemu, long deadline) throws IOException, InterruptedException {
        while (true) {
            SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX);
            try {
                ch.connect(UnixDomainSocketAddress.of(socket));
                return ch;
            } catch (SocketException e) { // ConnectException when refused, "No such file or directory" before bind()
                ch.close();
                if (!qemu.isAlive()) throw new IOException("QEMU exited before it listened on " + socket.getFileName(), e);
                if (System.nanoTime() > deadline) throw new IOException("QEMU did not listen on " + socket.getFileName() + " in time: " + e.getMessage(), e);
            } catch (IOException | RuntimeException e) {
                ch.close();
                throw e;
            }
            Thread.sleep(10);
        }
    }

    /** Removes the sockets of a previous QEMU, so that waiting for the new ones means waiting for the new QEMU. */
    static void deleteSockets(VmPaths paths) {
        for (Path p : List.of(paths.agentSocket(), paths.qmpSocket(), paths.migrateSocket())) {
            try {
                Files.deleteIfExists(p);
            } catch (IOException ignored) {
                // QEMU replaces it anyway
            }
        }
    }

    /** A console line saying the boot cannot succeed (initramfs failure, kernel panic), or null. */
    static String fatalConsoleLine(VmPaths paths) {
        try {
            if (!Files.exists(paths.console())) return null;
            for (String line : Files.readAllLines(paths.console(), StandardCharsets.ISO_8859_1)) {
                if (line.contains("bhatti-initramfs: FATAL") || line.contains("Kernel panic")) return line.strip();
            }
        } catch (IOException e) {
            return null;
        }
        return null;
    }

    /** The last {@code lines} lines of a log file, or "" when it is missing or unreadable. */
    static String tail(Path file, int lines) {
        try {
            if (!Files.exists(file)) return "";
            List<String> all = Files.readAllLines(file, StandardCharsets.ISO_8859_1);
            return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size())) + "\n";
        } catch (IOException e) {
            return "";
        }
    }

    /** A QEMU process from the pid file that really is this VM's (pids get reused). */
    static Optional<ProcessHandle> runningQemu(VmPaths paths) {
        try {
            if (!Files.exists(paths.pidFile())) return Optional.empty();
            long pid = Long.parseLong(Files.readString(paths.pidFile()).strip());
            Path cmdline = Path.of("/proc", Long.toString(pid), "cmdline");
            if (!Files.exists(cmdline)) return Optional.empty();
            String args = Files.readString(cmdline, StandardCharsets.ISO_8859_1);
            if (!args.contains(paths.agentSocket().toString())) return Optional.empty();
            return ProcessHandle.of(pid).filter(ProcessHandle::isAlive);
        } catch (IOException | NumberFormatException e) {
            return Optional.empty();
        }
    }

    /** SIGTERM, then SIGKILL after {@link #STOP_GRACE}. */
    static void stop(ProcessHandle p) {
        if (!p.isAlive()) return;
        p.destroy();
        if (awaitEnd(p, STOP_GRACE)) return;
        p.destroyForcibly();
        if (!awaitEnd(p, STOP_GRACE)) log.error("pid {} survived SIGKILL", p.pid());
    }

    /**
     * Whether {@code p} ended within {@code timeout}. Looks every few milliseconds: the JDK learns of the
     * end of a process that is not the daemon's child (a VM adopted after a restart) only by polling,
     * seconds apart, which a stop would wait out.
     */
    static boolean awaitEnd(ProcessHandle p, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        try {
            while (p.isAlive()) {
                if (System.nanoTime() > deadline) return false;
                Thread.sleep(END_POLL);
            }
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return !p.isAlive();
        }
    }

    private static final Duration END_POLL = Duration.ofMillis(3);

    /** Waits until each of {@code processes} has ended, for {@code timeout} in all; one still running then is logged. */
    static void awaitExit(List<ProcessHandle> processes, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        for (ProcessHandle p : processes) {
            if (!awaitEnd(p, Duration.ofNanos(Math.max(0, deadline - System.nanoTime())))) {
                if (Thread.currentThread().isInterrupted()) return;
                log.warn("pid {} ({}) still runs after {} s", p.pid(), p.info().command().orElse("?"), timeout.toSeconds());
            }
        }
    }

    /** A file's size in KiB for log lines; -1 when it cannot be read. */
    static long sizeKib(Path p) {
        try {
            return Files.size(p) / 1024;
        } catch (IOException e) {
            return -1;
        }
    }
}
