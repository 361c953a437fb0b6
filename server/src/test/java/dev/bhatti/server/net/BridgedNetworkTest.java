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

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The host side of sandbox networking on real links, rules and sockets, without VMs: inside a network
 * namespace this test creates (and removes), never in the machine's own.
 */
class BridgedNetworkTest {
    static final String POOL = "10.123.0.0/23"; // room for two users

    @TempDir Path dir;
    String netns;
    Store store;
    BridgedNetwork network;

    @BeforeEach
    void setUp() throws Exception {
        netns = "bhatti-test-" + Long.toHexString(System.nanoTime());
        sh("ip", "netns", "add", netns);
        sh("ip", "-n", netns, "link", "set", "lo", "up");
        store = SqliteStore.open(dir.resolve("state.db"));
        for (String u : List.of("u1", "u2", "u3")) {
            store.insertUser(new UserRecord(u, "name-" + u, "hash-" + u, 300, 300, 1 << 20, 5, 20480, Instant.now()));
        }
        network = open();
    }

    BridgedNetwork open() throws Exception {
        var n = new BridgedNetwork(new NetworkConfig(true, Subnets.parse(POOL), netns, List.of()), store);
        n.start();
        return n;
    }

    @AfterEach
    void tearDown() throws Exception {
        if (network != null) network.close();
        if (store != null) store.close();
        sh("ip", "netns", "del", netns);
    }

    SandboxRecord sandbox(String user, String id, String name) {
        var s = new SandboxRecord(id, user, name, SandboxStatus.RUNNING, "", 1, 256, "minimal", "qemu", "tcg", Instant.now(), false);
        assertThat(store.insertSandbox(s, store.users().stream().filter(u -> u.id().equals(user)).findFirst().orElseThrow()))
                .isEqualTo(Store.Insert.INSERTED);
        return s;
    }

    @Test
    void usersGetTheirOwnBridgeAndSubnetAndSandboxesAddressesInIt() throws Exception {
        GuestNet a1 = network.attach(sandbox("u1", "aaaa000000000001", "web"), Egress.ALL);
        GuestNet a2 = network.attach(sandbox("u1", "aaaa000000000002", "db"), Egress.of("none", List.of("198.18.0.9")));
        GuestNet b1 = network.attach(sandbox("u2", "bbbb000000000001", "web"), Egress.ALL);
        assertThat(a1.address()).isEqualTo("10.123.0.2/24");
        assertThat(a2.address()).isEqualTo("10.123.0.3/24");
        assertThat(b1.address()).isEqualTo("10.123.1.2/24");
        assertThat(a1.gateway()).isEqualTo("10.123.0.1");
        assertThat(b1.gateway()).isEqualTo("10.123.1.1");
        assertThat(a1.mac()).isNotEqualTo(a2.mac()).startsWith("02:");

        assertThat(out("ip", "-n", netns, "-o", "addr", "show", "dev", "bhbr0")).contains("10.123.0.1/24");
        assertThat(out("ip", "-n", netns, "-o", "addr", "show", "dev", "bhbr1")).contains("10.123.1.1/24");
        assertThat(out("ip", "-n", netns, "-o", "link", "show", "dev", a1.tap())).contains("master bhbr0");
        assertThat(out("ip", "-n", netns, "-o", "link", "show", "dev", b1.tap())).contains("master bhbr1");

        String rules = out("ip", "netns", "exec", netns, "nft", "list", "ruleset");
        assertThat(rules).contains("iifname \"bhbr*\" oifname \"bhbr*\" drop")
                .contains("iifname \"" + a2.tap() + "\" ip saddr != 10.123.0.3 drop")
                .contains("198.18.0.9")
                .contains("masquerade");

        // the pool holds two users: a third one gets a clear 503 and nothing is left behind
        var c1 = sandbox("u3", "cccc000000000001", "x");
        assertThatThrownBy(() -> network.attach(c1, Egress.ALL)).isInstanceOf(DomainException.Unavailable.class);
        assertThat(store.network(c1.id())).isEmpty();
        assertThat(out("ip", "-n", netns, "-o", "link", "show")).doesNotContain(BridgedNetwork.tapName(c1.id()));

        // detaching returns the address and removes the TAP; the last sandbox of a user takes its bridge along
        network.detach("aaaa000000000001");
        assertThat(out("ip", "-n", netns, "-o", "link", "show")).doesNotContain(a1.tap()).contains("bhbr0");
        GuestNet a3 = network.attach(sandbox("u1", "aaaa000000000003", "cache"), Egress.ALL);
        assertThat(a3.address()).as("the lowest free address is reused").isEqualTo("10.123.0.2/24");
        network.detach("aaaa000000000002");
        network.detach("aaaa000000000003");
        assertThat(out("ip", "-n", netns, "-o", "link", "show")).doesNotContain("bhbr0").contains("bhbr1");
        assertThat(out("ip", "netns", "exec", netns, "nft", "list", "ruleset")).doesNotContain(a2.tap());
    }

    @Test
    void aPoolHoldingANetworkTheHostRoutesIsRefusedAndAWiderOneOnlyWarned() throws Exception {
        network.close();
        network = null;
        sh("ip", "-n", netns, "link", "add", "lan0", "type", "bridge"); // a stand-in for the LAN's link (no dummy module here)
        sh("ip", "-n", netns, "addr", "add", "10.123.1.5/24", "dev", "lan0"); // inside the pool 10.123.0.0/23
        sh("ip", "-n", netns, "link", "set", "lan0", "up");
        assertThatThrownBy(this::open).isInstanceOf(NetworkException.class)
                .hasMessageContaining("network.pool 10.123.0.0/23 holds 10.123.1.0/24 (routed on lan0)").hasMessageContaining("config.yaml");
        assertThat(out("ip", "-n", netns, "-o", "link", "show")).as("nothing made").doesNotContain("bhbr");
        sh("ip", "-n", netns, "addr", "flush", "dev", "lan0");
        sh("ip", "-n", netns, "addr", "add", "10.9.9.9/8", "dev", "lan0"); // around the pool: a warning
        network = open();
        assertThat(network.attach(sandbox("u1", "aaaa000000000001", "web"), Egress.ALL).address()).isEqualTo("10.123.0.2/24");
    }

    @Test
    void theGatewaysMacStaysPutWhileTapsComeAndGo() throws Exception {
        GuestNet a1 = network.attach(sandbox("u1", "aaaa000000000001", "web"), Egress.ALL);
        String mac = BridgedNetwork.gatewayMac(a1.gateway());
        assertThat(mac).isEqualTo("02:62:0a:7b:00:01");
        assertThat(linkMac("bhbr0")).isEqualTo(mac);
        // a port whose MAC is below every other: a bridge left to itself would take it for its own
        sh("ip", "-n", netns, "link", "set", "dev", a1.tap(), "address", "00:00:00:00:00:01");
        network.attach(sandbox("u1", "aaaa000000000002", "db"), Egress.ALL);
        network.detach("aaaa000000000001");
        assertThat(linkMac("bhbr0")).isEqualTo(mac);
        // a bridge made before the MAC was fixed gets it at the next start
        network.close();
        sh("ip", "-n", netns, "link", "set", "dev", "bhbr0", "address", "00:00:00:00:00:02");
        network = open();
        assertThat(linkMac("bhbr0")).isEqualTo(mac);
    }

    String linkMac(String link) throws Exception {
        String o = out("ip", "-n", netns, "-o", "link", "show", "dev", link);
        return o.substring(o.indexOf("link/ether ") + 11).split(" ")[0];
    }

    @Test
    void theResolverAnswersOnlyForTheUsersOwnSandboxes() throws Exception {
        GuestNet a1 = network.attach(sandbox("u1", "aaaa000000000001", "web"), Egress.ALL);
        GuestNet b1 = network.attach(sandbox("u2", "bbbb000000000001", "secret-db"), Egress.ALL);
        GuestNet api = network.attach(sandbox("u1", "aaaa000000000002", "API"), Egress.ALL);
        try (var sockets = new NetnsSockets(netns); var ch = sockets.datagram()) {
            ch.bind(new InetSocketAddress(a1.gateway(), 0));
            ch.connect(new InetSocketAddress(a1.gateway(), 53));
            assertThat(resolve(ch, "web")).containsExactly(a1.ip());
            assertThat(resolve(ch, "web.sb")).containsExactly(a1.ip());
            assertThat(resolve(ch, "Api")).as("names know no case").containsExactly(api.ip());
            // another user's sandbox is not a sibling: it goes upstream (none here) and fails
            assertThat(resolve(ch, "secret-db")).isEmpty();
            assertThat(rcode(ch, "secret-db")).isEqualTo(DnsMessage.RCODE_SERVFAIL);
            // reverse: a sibling's address names it; another user's is unknown here (and never asked upstream)
            byte[] ptr = ask(ch, reverse(a1.ip()), DnsMessage.TYPE_PTR);
            int questionEnd = 12 + reverse(a1.ip()).length() + 2 + 4; // header, the name's labels, type and class
            assertThat(DnsMessageTest.pointerTarget(ptr, questionEnd)).isEqualTo("web.sb");
            assertThat(ask(ch, reverse(b1.ip()), DnsMessage.TYPE_PTR)[3] & 0x0f).isEqualTo(DnsMessage.RCODE_NXDOMAIN);
            assertThat(ask(ch, reverse("10.123.0.200"), DnsMessage.TYPE_PTR)[3] & 0x0f).as("a free address of the pool")
                    .isEqualTo(DnsMessage.RCODE_NXDOMAIN);
            assertThat(ask(ch, reverse("192.0.2.1"), DnsMessage.TYPE_PTR)[3] & 0x0f).as("outside the pool: upstream (none)")
                    .isEqualTo(DnsMessage.RCODE_SERVFAIL);
        }
        // the same over TCP (what a guest falls back to for a truncated answer), several on one connection
        try (var sockets = new NetnsSockets(netns); var tcp = sockets.socket()) {
            tcp.socket().connect(new InetSocketAddress(a1.gateway(), 53), 5000);
            tcp.socket().setSoTimeout(5000);
            byte[] web = askTcp(tcp, "web");
            assertThat(DnsMessage.addresses(web, web.length).stream().map(DnsMessage.Address::ip)).containsExactly(a1.ip());
            byte[] dotSb = askTcp(tcp, "web.sb");
            assertThat(DnsMessage.addresses(dotSb, dotSb.length).stream().map(DnsMessage.Address::ip)).containsExactly(a1.ip());
            assertThat(askTcp(tcp, "secret-db")[3] & 0x0f).isEqualTo(DnsMessage.RCODE_SERVFAIL);
        }
    }

    static byte[] askTcp(java.nio.channels.SocketChannel tcp, String name) throws Exception {
        byte[] q = DnsMessageTest.query(78, name, DnsMessage.TYPE_A);
        var out = tcp.socket().getOutputStream();
        out.write(new byte[] {(byte) (q.length >>> 8), (byte) q.length});
        out.write(q);
        var in = new java.io.DataInputStream(tcp.socket().getInputStream());
        byte[] reply = in.readNBytes(in.readUnsignedShort());
        assertThat((reply[0] & 0xff) << 8 | (reply[1] & 0xff)).as("the reply's id").isEqualTo(78);
        return reply;
    }

    @Test
    void startRemovesOrphansAndRecreatesWhatIsMissing() throws Exception {
        GuestNet a1 = network.attach(sandbox("u1", "aaaa000000000001", "web"), Egress.ALL);
        network.close();
        sh("ip", "-n", netns, "tuntap", "add", "dev", "bt0000000000000", "mode", "tap");
        sh("ip", "-n", netns, "link", "add", "name", "bhbr7", "type", "bridge");
        sh("ip", "-n", netns, "link", "del", "dev", a1.tap());
        network = open();
        assertThat(out("ip", "-n", netns, "-o", "link", "show")).doesNotContain("bt0000000000000").doesNotContain("bhbr7");
        network.prepare("aaaa000000000001"); // what a start does before booting the VM
        assertThat(out("ip", "-n", netns, "-o", "link", "show", "dev", a1.tap())).contains("master bhbr0");
    }

    static List<String> resolve(java.nio.channels.DatagramChannel ch, String name) throws Exception {
        byte[] reply = ask(ch, name);
        return DnsMessage.addresses(reply, reply.length).stream().map(DnsMessage.Address::ip).toList();
    }

    static int rcode(java.nio.channels.DatagramChannel ch, String name) throws Exception {
        return ask(ch, name)[3] & 0x0f;
    }

    static String reverse(String ip) {
        String[] o = ip.split("\\.");
        return o[3] + "." + o[2] + "." + o[1] + "." + o[0] + ".in-addr.arpa";
    }

    static byte[] ask(java.nio.channels.DatagramChannel ch, String name) throws Exception { return ask(ch, name, DnsMessage.TYPE_A); }

    static byte[] ask(java.nio.channels.DatagramChannel ch, String name, int type) throws Exception {
        ch.write(ByteBuffer.wrap(DnsMessageTest.query(77, name, type)));
        ByteBuffer buf = ByteBuffer.allocate(1500);
        ch.configureBlocking(false);
        try (var selector = java.nio.channels.Selector.open()) {
            ch.register(selector, java.nio.channels.SelectionKey.OP_READ);
            if (selector.select(5000) == 0) throw new AssertionError("no DNS answer for " + name);
        }
        int n = ch.read(buf);
        ch.configureBlocking(true);
        return java.util.Arrays.copyOf(buf.array(), n);
    }

    static void sh(String... argv) throws Exception {
        Process p = new ProcessBuilder(argv).redirectErrorStream(true).start();
        String o = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (p.waitFor() != 0) throw new AssertionError(String.join(" ", argv) + ": " + o);
    }

    static String out(String... argv) throws Exception {
        Process p = new ProcessBuilder(argv).redirectErrorStream(true).start();
        String o = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor();
        return o;
    }
}
