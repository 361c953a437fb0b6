package dev.bhatti.agent;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import java.util.Optional;

/**
 * The guest's identity on eth0. At boot /opt/bhatti/init configures it from the kernel argument
 * {@code bhatti.net=}; after a snapshot resumes as a new sandbox the host sends a new identity and this
 * readdresses the interface: new MAC, new address, default route, no stale neighbours.
 */
final class GuestNetwork {
    private static final Pattern WIRE = Pattern.compile(
            "(\\d{1,3}(?:\\.\\d{1,3}){3})/(\\d{1,2}),(\\d{1,3}(?:\\.\\d{1,3}){3}),((?:[0-9a-f]{2}:){5}[0-9a-f]{2})");
    static final String DEVICE = "eth0";

    private GuestNetwork() {}

    record Identity(String address, int prefix, String gateway, String mac) {}

    /** {@code address/prefix,gateway,mac}, or empty if malformed. */
    static Optional<Identity> parse(String wire) {
        var m = WIRE.matcher(wire);
        if (!m.matches()) return Optional.empty();
        int prefix = Integer.parseInt(m.group(2));
        if (prefix < 8 || prefix > 30) return Optional.empty();
        return Optional.of(new Identity(m.group(1), prefix, m.group(3), m.group(4)));
    }

    /** The commands that give eth0 {@code id}, in order. */
    static List<List<String>> commands(Identity id) {
        return List.of(
                List.of("ip", "link", "set", "dev", DEVICE, "down"),
                List.of("ip", "link", "set", "dev", DEVICE, "address", id.mac()),
                List.of("ip", "addr", "flush", "dev", DEVICE),
                List.of("ip", "addr", "add", id.address() + "/" + id.prefix(), "dev", DEVICE),
                List.of("ip", "link", "set", "dev", DEVICE, "up"),
                List.of("ip", "route", "replace", "default", "via", id.gateway(), "dev", DEVICE),
                List.of("ip", "neigh", "flush", "dev", DEVICE));
    }

    /** Applies {@code wire}; returns null, or what went wrong. */
    static String apply(String wire) {
        var id = parse(wire);
        if (id.isEmpty()) return "bad network identity '" + wire + "'";
        String err = runBatch(commands(id.get()));
        if (err != null) return err;
        try {
            Files.writeString(Path.of("/etc/resolv.conf"), resolvConf(id.get().gateway()));
        } catch (IOException e) {
            return "cannot write /etc/resolv.conf: " + e.getMessage();
        }
        return null;
    }

    /** The daemon's resolver on the gateway is the only nameserver: glibc would not fall through on NXDOMAIN. */
    static String resolvConf(String gateway) {
        return "nameserver " + gateway + "\noptions timeout:2 attempts:2\n";
    }

    /** The lines {@code ip -batch -} reads for {@code commands} (each without its leading "ip"). */
    static String batch(List<List<String>> commands) {
        var b = new StringBuilder();
        for (List<String> cmd : commands) b.append(String.join(" ", cmd.subList(1, cmd.size()))).append('\n');
        return b.toString();
    }

    /**
     * Runs the commands in one {@code ip -batch} process, which stops at the first that fails: one
     * process instead of seven, where each start costs tens of milliseconds (emulated CPUs).
     */
    private static String runBatch(List<List<String>> commands) {
        try {
            Process p = new ProcessBuilder("ip", "-batch", "-").redirectErrorStream(true).start();
            try (var in = p.getOutputStream()) {
                in.write(batch(commands).getBytes(StandardCharsets.UTF_8));
            }
            byte[] out = p.getInputStream().readNBytes(4096);
            if (!p.waitFor(10, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return "timed out";
            }
            return p.exitValue() == 0 ? null : new String(out, StandardCharsets.UTF_8).strip();
        } catch (IOException e) {
            return e.getMessage();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted";
        }
    }
}
