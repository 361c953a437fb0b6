package dev.bhatti.server.net;

import dev.bhatti.engine.GuestNet;
import dev.bhatti.server.error.DomainException;
import dev.bhatti.server.store.SandboxRecord;
import dev.bhatti.server.store.SandboxStatus;
import dev.bhatti.server.store.SqliteStore;
import dev.bhatti.server.store.Store;
import dev.bhatti.server.store.UserRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.SocketTimeoutException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static dev.bhatti.server.net.BridgedNetworkTest.out;
import static dev.bhatti.server.net.BridgedNetworkTest.sh;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * What a sandbox reaches outside its user's network, with real packets and no VM. Namespaces this test
 * creates (and removes): {@code host}, where the daemon's bridges and rules live; {@code world} behind
 * it, holding the host's LAN (on a second link) and, behind its uplink, the internet (benchmark and
 * documentation addresses), other private networks and a metadata service, all listening; and one
 * namespace per sandbox, plugged into its user's bridge in place of its TAP (a veth of the TAP's name,
 * with the sandbox's MAC and address), so every rule applies to it as to a VM.
 */
class PrivateEgressTest {
    static final String POOL = "10.123.0.0/23";
    static final int PORT = 8080;
    static final String HOST_UPLINK = "198.18.0.1";
    static final String WAN = "198.18.0.2";
    static final String HOST_LAN = "192.168.77.1";
    static final String LAN = "192.168.77.10";
    static final String PUBLIC = "203.0.113.10";
    static final String ALLOWED = "10.0.5.10"; // the operator allows 10.0.5.0/24
    static final String PRIVATE_10 = "10.0.6.10";
    static final String PRIVATE_172 = "172.16.0.10";
    static final String CGNAT = "100.64.0.10";
    static final String METADATA = "169.254.169.254";
    /** Addresses the world answers on besides its links' own, routed to it by the host's default route. */
    static final List<String> BEHIND_UPLINK = List.of(PUBLIC, ALLOWED, PRIVATE_10, PRIVATE_172, CGNAT, METADATA);

    enum Outcome { ANSWERED, REFUSED, DROPPED }

    @TempDir Path dir;
    String host;
    String world;
    final List<String> guests = new ArrayList<>();
    final List<AutoCloseable> closing = new ArrayList<>();
    Process dnsmasq;
    Store store;
    BridgedNetwork network;
    /** The addresses the world's and the host's listeners were reached on. */
    final Set<String> worldAnswered = ConcurrentHashMap.newKeySet();
    final Set<String> hostAnswered = ConcurrentHashMap.newKeySet();

    @BeforeEach
    void setUp() throws Exception {
        String id = Long.toHexString(System.nanoTime() & 0xffffffL);
        host = "bhpe-h-" + id;
        world = "bhpe-w-" + id;
        sh("ip", "netns", "add", host);
        sh("ip", "netns", "add", world);
        sh("ip", "-n", host, "link", "set", "lo", "up");
        sh("ip", "-n", world, "link", "set", "lo", "up");
        sh("ip", "-n", host, "link", "add", "uplink", "type", "veth", "peer", "name", "wanside", "netns", world);
        sh("ip", "-n", host, "link", "add", "lan0", "type", "veth", "peer", "name", "lanside", "netns", world);
        sh("ip", "-n", host, "addr", "add", HOST_UPLINK + "/24", "dev", "uplink");
        sh("ip", "-n", host, "addr", "add", HOST_LAN + "/24", "dev", "lan0");
        sh("ip", "-n", world, "addr", "add", WAN + "/24", "dev", "wanside");
        sh("ip", "-n", world, "addr", "add", LAN + "/24", "dev", "lanside");
        for (String a : BEHIND_UPLINK) sh("ip", "-n", world, "addr", "add", a + "/32", "dev", "lo");
        for (String link : List.of("uplink", "lan0")) sh("ip", "-n", host, "link", "set", link, "up");
        for (String link : List.of("wanside", "lanside")) sh("ip", "-n", world, "link", "set", link, "up");
        sh("ip", "-n", host, "route", "add", "default", "via", WAN);
        // no route back to the pool: only the host's NAT gets a sandbox an answer
        listen(world, worldAnswered);
        listen(host, hostAnswered);
        dnsmasq = new ProcessBuilder("ip", "netns", "exec", world, "dnsmasq", "--keep-in-foreground", "--no-resolv", "--no-hosts",
                "--bind-interfaces", "--listen-address=" + WAN, "--address=/pkg.test/" + PUBLIC, "--address=/intranet.pkg.test/" + LAN,
                "--pid-file=" + dir.resolve("dnsmasq.pid")).redirectErrorStream(true).redirectOutput(dir.resolve("dnsmasq.log").toFile()).start();

        store = SqliteStore.open(dir.resolve("state.db"));
        for (String u : List.of("u1", "u2")) {
            store.insertUser(new UserRecord(u, "name-" + u, "hash-" + u, 300, 300, 1 << 20, 5, 20480, Instant.now()));
        }
        var config = new NetworkConfig(true, Subnets.parse(POOL), host, List.of(new InetSocketAddress(WAN, 53)),
                PrivateRanges.of(List.of("10.0.5.0/24")));
        network = new BridgedNetwork(config, store);
        network.start();
    }

    @AfterEach
    void tearDown() throws Exception {
        for (AutoCloseable c : closing.reversed()) c.close();
        if (dnsmasq != null) dnsmasq.destroyForcibly().waitFor();
        if (network != null) network.close();
        if (store != null) store.close();
        for (String ns : guests) out("ip", "netns", "del", ns);
        if (host != null) out("ip", "netns", "del", host);
        if (world != null) out("ip", "netns", "del", world);
    }

    /** A TCP listener on every address of {@code netns}, noting which address each connection came to. */
    void listen(String netns, Set<String> answered) throws Exception {
        var sockets = new NetnsSockets(netns);
        closing.add(sockets);
        listen(sockets, answered);
    }

    void listen(NetnsSockets sockets, Set<String> answered) throws Exception {
        listen(sockets.serverSocket(), new InetSocketAddress("0.0.0.0", PORT), answered);
    }

    void listen(ServerSocketChannel server, InetSocketAddress on, Set<String> answered) throws Exception {
        closing.add(server);
        server.bind(on);
        Thread.ofVirtual().start(() -> {
            while (server.isOpen()) {
                try (SocketChannel c = server.accept()) {
                    answered.add(((InetSocketAddress) c.getLocalAddress()).getAddress().getHostAddress());
                } catch (IOException e) {
                    return; // closed at the end of the test
                }
            }
        });
    }

    SandboxRecord sandbox(String user, String id) {
        var s = new SandboxRecord(id, user, "s" + id.substring(12), SandboxStatus.RUNNING, "", 1, 256, "minimal", "qemu", "tcg", Instant.now(), false);
        assertThat(store.insertSandbox(s, store.users().stream().filter(u -> u.id().equals(user)).findFirst().orElseThrow()))
                .isEqualTo(Store.Insert.INSERTED);
        return s;
    }

    /**
     * Where the sandbox's VM would be: its TAP replaced by a veth of the same name on the same bridge,
     * whose other end, in a namespace of its own, has the sandbox's MAC, address and default route.
     */
    NetnsSockets plug(GuestNet g) throws Exception {
        String ns = host + "-g" + guests.size();
        sh("ip", "netns", "add", ns);
        guests.add(ns);
        String bridge = bridgeOf(g);
        sh("ip", "-n", host, "link", "del", "dev", g.tap());
        sh("ip", "-n", host, "link", "add", g.tap(), "type", "veth", "peer", "name", "eth0", "netns", ns);
        sh("ip", "-n", host, "link", "set", "dev", g.tap(), "master", bridge, "up");
        sh("ip", "-n", ns, "link", "set", "dev", "eth0", "address", g.mac());
        sh("ip", "-n", ns, "addr", "add", g.address(), "dev", "eth0");
        sh("ip", "-n", ns, "link", "set", "dev", "eth0", "up");
        sh("ip", "-n", ns, "link", "set", "dev", "lo", "up");
        sh("ip", "-n", ns, "route", "add", "default", "via", g.gateway());
        var sockets = new NetnsSockets(ns);
        closing.add(sockets);
        return sockets;
    }

    String bridgeOf(GuestNet g) throws Exception {
        String bridge = out("ip", "-n", host, "-o", "link", "show", "dev", g.tap()).replaceAll("(?s).* master (\\S+) .*", "$1");
        assertThat(bridge).startsWith(BridgedNetwork.BRIDGE_PREFIX);
        return bridge;
    }

    /**
     * Connects from {@code from} to every {@code ip:port} at once. Dropped packets only show as silence,
     * so each gets a deadline; what answers does so in milliseconds (a few links in one kernel).
     */
    static Map<String, Outcome> reach(NetnsSockets from, List<String> targets) throws Exception {
        var futures = new LinkedHashMap<String, Future<Outcome>>();
        try (var threads = Executors.newVirtualThreadPerTaskExecutor()) {
            for (String t : targets) futures.put(t, threads.submit(() -> connect(from, t)));
        }
        var outcomes = new LinkedHashMap<String, Outcome>();
        for (var f : futures.entrySet()) outcomes.put(f.getKey(), f.getValue().get());
        return outcomes;
    }

    /** {@code ip}, {@code ip:port} or {@code [ipv6]:port}. */
    static Outcome connect(NetnsSockets from, String target) throws IOException {
        int colon = target.lastIndexOf(':');
        boolean v6 = target.startsWith("[");
        String ip = v6 ? target.substring(1, target.indexOf(']')) : colon < 0 ? target : target.substring(0, colon);
        int port = colon < 0 || v6 && colon < target.indexOf(']') ? PORT : Integer.parseInt(target.substring(colon + 1));
        try (SocketChannel ch = from.inside(() -> SocketChannel.open(v6 ? StandardProtocolFamily.INET6 : StandardProtocolFamily.INET))) {
            ch.socket().connect(new InetSocketAddress(ip, port), 3000);
            return Outcome.ANSWERED;
        } catch (SocketTimeoutException e) {
            return Outcome.DROPPED;
        } catch (ConnectException e) {
            return Outcome.REFUSED; // a reset, or an ICMP error: the packet got somewhere
        }
    }

    /** Through the sandbox's resolver, once the world's DNS server (started with the test) answers. */
    static List<String> resolve(java.nio.channels.DatagramChannel ch, String name) throws Exception {
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (true) {
            List<String> ips = BridgedNetworkTest.resolve(ch, name);
            if (!ips.isEmpty() || System.nanoTime() > deadline) return ips;
            Thread.sleep(100);
        }
    }

    static Map<String, Outcome> expect(Outcome outcome, String... targets) {
        var m = new LinkedHashMap<String, Outcome>();
        for (String t : targets) m.put(t, outcome);
        return m;
    }

    @Test
    void egressAllReachesThePublicAndWhatTheOperatorAllowedButNoPrivateRangeNorTheHost() throws Exception {
        GuestNet a = network.attach(sandbox("u1", "aaaa000000000001"), Egress.ALL);
        GuestNet sibling = network.attach(sandbox("u1", "aaaa000000000002"), Egress.of("none", List.of()));
        String bridge = bridgeOf(a);
        NetnsSockets fromA = plug(a);
        String guestA = guests.getLast();
        NetnsSockets fromSibling = plug(sibling);
        // IPv6 (a ULA here) gets nowhere either: the guest knows the gateway's MAC, so only a rule stops it
        sh("ip", "-n", host, "addr", "add", "fd00:123::1/64", "dev", bridge, "nodad");
        sh("ip", "-n", guestA, "addr", "add", "fd00:123::2/64", "dev", "eth0", "nodad");
        sh("ip", "-n", guestA, "neigh", "replace", "fd00:123::1", "lladdr", BridgedNetwork.gatewayMac(a.gateway()), "dev", "eth0", "nud", "permanent");
        var hostSockets = new NetnsSockets(host);
        closing.add(hostSockets);
        listen(hostSockets.inside(() -> ServerSocketChannel.open(StandardProtocolFamily.INET6)), new InetSocketAddress("::", PORT + 1), hostAnswered);
        listen(fromSibling, ConcurrentHashMap.newKeySet());

        var expected = new LinkedHashMap<String, Outcome>();
        expected.putAll(expect(Outcome.ANSWERED, WAN, PUBLIC, ALLOWED, sibling.ip(),
                a.gateway() + ":53")); // the resolver, over TCP
        expected.putAll(expect(Outcome.DROPPED, LAN, PRIVATE_10, PRIVATE_172, CGNAT, METADATA,
                HOST_UPLINK, HOST_LAN, a.gateway(), // the host's own addresses: only the resolver answers
                "[fd00:123::1]:" + (PORT + 1)));
        assertThat(reach(fromA, List.copyOf(expected.keySet()))).isEqualTo(expected);
        assertThat(worldAnswered).containsExactlyInAnyOrder(WAN, PUBLIC, ALLOWED);
        assertThat(hostAnswered).as("nothing of the host but its resolver").isEmpty();
        // the drops are the private rule's, not an accident of routing
        assertThat(out("ip", "netns", "exec", host, "nft", "list", "chain", "inet", Firewall.TABLE, "forward"))
                .containsPattern("ip daddr @private ip daddr != @private_allowed counter packets [1-9]");

        // egress none: its sibling, on the same bridge (the pool is private too), and nothing else
        assertThat(reach(fromSibling, List.of(a.gateway() + ":53", WAN))).containsExactly(
                Map.entry(a.gateway() + ":53", Outcome.ANSWERED), Map.entry(WAN, Outcome.DROPPED));
    }

    @Test
    void anAllowListNeverOpensAPrivateRangeTheOperatorDidNot() throws Exception {
        // refused up front: the user learns why, instead of a timeout
        assertThatThrownBy(() -> network.admit(Egress.of("none", List.of("203.0.113.0/24", "192.168.77.0/24"))))
                .isInstanceOf(DomainException.Invalid.class)
                .hasMessageContaining("192.168.77.0/24").hasMessageContaining("192.168.0.0/16").hasMessageContaining("network.allow_private");
        assertThatThrownBy(() -> network.admit(Egress.of("none", List.of(METADATA)))).hasMessageContaining("169.254.0.0/16");
        network.admit(Egress.of("none", List.of("10.0.5.0/24", "203.0.113.0/24", "pkg.test")));

        // a list from before the rule (or one that got past it) is overruled by the firewall; names
        // open only their public answers (a DNS answer is no way into the LAN)
        GuestNet g = network.attach(sandbox("u2", "bbbb000000000001"),
                Egress.of("none", List.of("192.168.77.0/24", "10.0.5.0/24", "10.0.5.10", "pkg.test")));
        NetnsSockets from = plug(g);
        try (var ch = from.datagram()) {
            ch.connect(new InetSocketAddress(g.gateway(), 53));
            assertThat(resolve(ch, "pkg.test")).containsExactly(PUBLIC);
            assertThat(resolve(ch, "intranet.pkg.test")).containsExactly(LAN);
        }
        var expected = new LinkedHashMap<String, Outcome>();
        expected.putAll(expect(Outcome.ANSWERED, ALLOWED, PUBLIC));
        expected.putAll(expect(Outcome.DROPPED, LAN, METADATA, WAN, PRIVATE_10));
        assertThat(reach(from, List.copyOf(expected.keySet()))).isEqualTo(expected);
        assertThat(worldAnswered).containsExactlyInAnyOrder(ALLOWED, PUBLIC);
    }
}
