package dev.bhatti.server.net;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The host's side of sandbox networking, done with iproute2 and nft: bridges, TAPs, neighbours, the
 * nftables ruleset and IP forwarding. With a {@code netns} every command acts inside that network
 * namespace (tests use their own; a host may want its sandboxes apart from its main stack).
 */
public final class HostNetwork {
    private static final long TIMEOUT_SECONDS = 20;
    private final String netns;

    public HostNetwork(String netns) { this.netns = netns; }

    public String netns() { return netns; }

    /**
     * Creates the bridge if missing, gives it {@code mac}, addresses it with {@code gatewayCidr} and brings
     * it up. The MAC is set, never left to the kernel: a bridge without one takes its lowest port's, so
     * every TAP added or removed could change the gateway's MAC under the guests, whose ARP caches then
     * send to the old one until they expire (half a minute and more without DNS or egress).
     */
    public void ensureBridge(String bridge, String gatewayCidr, String mac) throws NetworkException {
        var shown = run(ipCommand("-o", "link", "show", "dev", bridge), true);
        if (shown.exit() != 0) {
            ip("link", "add", "name", bridge, "address", mac, "type", "bridge");
        } else if (!shown.output().contains("link/ether " + mac + " ")) {
            ip("link", "set", "dev", bridge, "address", mac); // a bridge made before the MAC was fixed
        }
        ip("addr", "replace", gatewayCidr, "dev", bridge);
        ip("link", "set", "dev", bridge, "up");
    }

    /** Creates the TAP if missing (persistent: it outlives the QEMU process using it) and plugs it into the bridge. */
    public void ensureTap(String tap, String bridge) throws NetworkException {
        if (!exists(tap)) ip("tuntap", "add", "dev", tap, "mode", "tap");
        ip("link", "set", "dev", tap, "master", bridge, "up");
    }

    /** Removes a link; a missing one is fine. */
    public void deleteLink(String name) throws NetworkException {
        if (exists(name)) ip("link", "del", "dev", name);
    }

    public boolean exists(String link) throws NetworkException {
        return run(ipCommand("link", "show", "dev", link), true).exit() == 0;
    }

    /** An IPv4 route of the main table: its destination ({@code a.b.c.d/n}; a host route gets /32) and device. */
    public record Route(String destination, String device) {}

    /** The IPv4 routes of the main table, but the default route. */
    public List<Route> routes() throws NetworkException {
        var routes = new ArrayList<Route>();
        for (String line : run(ipCommand("-o", "-4", "route", "show"), false).output().split("\n")) {
            // "10.0.0.0/8 via 10.1.1.1 dev eth0 ...", "192.0.2.7 dev wg0 scope link"; unreachable and the like have no dev
            String[] f = line.strip().split("\\s+");
            if (f.length < 3 || f[0].equals("default")) continue;
            String dest = f[0].contains("/") ? f[0] : f[0] + "/32";
            String dev = "";
            for (int i = 1; i + 1 < f.length; i++) if (f[i].equals("dev")) dev = f[i + 1];
            routes.add(new Route(dest, dev));
        }
        return routes;
    }

    /** The names of all links whose name starts with {@code prefix}. */
    public List<String> links(String prefix) throws NetworkException {
        var names = new ArrayList<String>();
        for (String line : run(ipCommand("-o", "link", "show"), false).output().split("\n")) {
            // "7: bt0123abc@if3: <BROADCAST,...": the name is the second field, up to '@' or ':'
            String[] f = line.split(": ", 3);
            if (f.length < 2) continue;
            String name = f[1].split("@")[0];
            if (name.startsWith(prefix)) names.add(name);
        }
        return names;
    }

    /**
     * Forgets what the host learned about {@code ip}: its neighbour entry (a reused address must not be
     * sent to the old MAC) and its connection-tracking entries (a restored guest's flows would stall).
     */
    public void forget(String ip, String bridge) throws NetworkException {
        run(ipCommand("neigh", "del", ip, "dev", bridge), true);
        if (conntrackAvailable()) {
            run(inNamespace(List.of("conntrack", "-D", "-s", ip)), true);
            run(inNamespace(List.of("conntrack", "-D", "-d", ip)), true);
        }
    }

    /** Replaces bhatti's nftables tables with {@code ruleset} in one transaction. */
    public void applyRuleset(String ruleset) throws NetworkException {
        run(inNamespace(List.of("nft", "-f", "-")), false, ruleset);
    }

    /** Adds {@code ip} to a set of the inet bhatti table for {@code seconds}. */
    public void addToSet(String set, String ip, long seconds) throws NetworkException {
        run(inNamespace(List.of("nft", "add", "element", "inet", Firewall.TABLE, set, "{ " + ip + " timeout " + seconds + "s }")), false);
    }

    public void enableForwarding() throws NetworkException {
        run(inNamespace(List.of("sysctl", "-q", "-w", "net.ipv4.ip_forward=1")), false);
    }

    private Boolean conntrack;

    private synchronized boolean conntrackAvailable() {
        if (conntrack == null) {
            conntrack = Files.isExecutable(Path.of("/usr/sbin/conntrack"));
        }
        return conntrack;
    }

    private void ip(String... args) throws NetworkException {
        run(ipCommand(args), false);
    }

    private List<String> ipCommand(String... args) {
        var argv = new ArrayList<String>();
        argv.add("ip");
        if (netns != null) argv.addAll(List.of("-n", netns));
        argv.addAll(List.of(args));
        return argv;
    }

    private List<String> inNamespace(List<String> argv) {
        if (netns == null) return argv;
        var all = new ArrayList<>(List.of("ip", "netns", "exec", netns));
        all.addAll(argv);
        return all;
    }

    record Result(int exit, String output) {}

    private Result run(List<String> argv, boolean mayFail) throws NetworkException {
        return run(argv, mayFail, null);
    }

    private Result run(List<String> argv, boolean mayFail, String stdin) throws NetworkException {
        Process p;
        try {
            var pb = new ProcessBuilder(argv).redirectErrorStream(true);
            if (stdin == null) pb.redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
            p = pb.start();
        } catch (IOException e) {
            throw new NetworkException(argv.get(0) + " cannot run (" + e.getMessage() + "); install iproute2 and nftables");
        }
        try {
            if (stdin != null) {
                try (var in = p.getOutputStream()) {
                    in.write(stdin.getBytes(StandardCharsets.UTF_8));
                }
            }
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new NetworkException(String.join(" ", argv) + " timed out");
            }
            if (p.exitValue() != 0 && !mayFail) {
                throw new NetworkException(String.join(" ", argv) + " failed: " + out.strip());
            }
            return new Result(p.exitValue(), out);
        } catch (IOException e) {
            throw new NetworkException(String.join(" ", argv) + " failed: " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            p.destroyForcibly();
            throw new NetworkException(String.join(" ", argv) + " interrupted");
        }
    }
}
