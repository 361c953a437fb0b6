package dev.bhatti.cli;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;
import tools.jackson.databind.JsonNode;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Sandbox networking end to end, on real VMs: per-user bridges and subnets, isolation between users at
 * L2 and L3, the daemon's resolver, NAT and egress policies, and a network that survives snapshots,
 * clones and daemon crashes. The daemon's network side lives in a namespace this test creates.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@ExtendWith(DaemonLogOnFailure.class)
class NetworkIT {
    static final String POOL_PREFIX = "10.211.";
    /** curl's exit code when it gets no answer at all: the packets were dropped, not refused. */
    static final int CURL_TIMEOUT = 28;

    static Path dataDir;
    static TestNetwork net;
    static BhattiProcess.Daemon daemon;
    static String bobKey;
    static final Map<String, String> ips = new LinkedHashMap<>();
    /** The gateway's MAC as sandbox a1 first learned it (its ARP entry). */
    static String gatewayMacSeenByA1;

    @RegisterExtension
    static final DaemonUnderTest bhatti = new DaemonUnderTest("bhatti-net-")
            .before(dir -> net = new TestNetwork(dir))
            .config(dir -> """
                    thermal: {warm_after_sec: 0, cold_after_sec: 0}
                    rate_limits: {create: {burst: 100, per_minute: 600}, exec: {burst: 1000, per_minute: 60000}}
                    network:
                      enabled: true
                      pool: %s0.0/16
                      netns: %s
                      dns_upstreams: [%s]
                      allow_private: [10.0.5.0/24]
                    """.formatted(POOL_PREFIX, net.sandboxes, TestNetwork.WAN_IP))
            .after(() -> {
                if (net != null) net.close();
            });

    @BeforeAll
    static void setUp() throws Exception {
        dataDir = bhatti.dataDir();
        daemon = bhatti.daemon();
        var bob = BhattiProcess.cli(Map.of(), "user", "create", "--name", "bob", "--json", "--data-dir", dataDir.toString());
        assertThat(bob.exit()).as(bob.toString()).isZero();
        bobKey = json(bob.stdout()).path("api_key").asString();
    }

    static JsonNode json(String s) { return ApiClient.JSON.readTree(s); }

    static BhattiProcess.Result cli(String... args) throws Exception { return BhattiProcess.cli(daemon.env, args); }

    static BhattiProcess.Result asBob(String... args) throws Exception {
        return BhattiProcess.cli(Map.of("BHATTI_URL", daemon.url(), "BHATTI_TOKEN", bobKey,
                "BHATTI_CONFIG", dataDir.resolve("none.yaml").toString()), args);
    }

    record Run(int exit, String stdout, String stderr) {}

    /** Runs a command in a sandbox through the API; {@code key} null = the admin. */
    static Run exec(String key, String sandbox, String user, String... cmd) throws Exception {
        return exec(60, key, sandbox, user, cmd);
    }

    static Run exec(int timeoutSec, String key, String sandbox, String user, String... cmd) throws Exception {
        var body = new LinkedHashMap<String, Object>();
        body.put("cmd", List.of(cmd));
        if (user != null) body.put("user", user);
        body.put("timeout_sec", timeoutSec);
        String b = ApiClient.JSON.writeValueAsString(body);
        var r = key == null ? daemon.call("POST", "/sandboxes/" + sandbox + "/exec", b) : daemon.call("POST", "/sandboxes/" + sandbox + "/exec", b, key);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        JsonNode j = json(r.body());
        return new Run(j.path("exit_code").asInt(), j.path("stdout").asString(), j.path("stderr").asString());
    }

    static Run admin(String sandbox, String... cmd) throws Exception { return exec(null, sandbox, null, cmd); }

    static Run bob(String sandbox, String... cmd) throws Exception { return exec(bobKey, sandbox, null, cmd); }

    /** curl with a short deadline: its exit code tells dropped (28) from refused (7) from answered (0). */
    static Run curl(String key, String sandbox, String url, String... extra) throws Exception {
        var cmd = new ArrayList<>(List.of("curl", "-sS", "-m", "4"));
        cmd.addAll(List.of(extra));
        cmd.add(url);
        return exec(key, sandbox, null, cmd.toArray(String[]::new));
    }

    /** A page came back; if not, the message says how curl failed (exit 6: no such name, 28: timed out). */
    static void assertPage(Run r, String page) {
        assertThat(r.stdout()).as(r.toString()).contains(page);
    }

    static void serve(String key, String sandbox, String page) throws Exception {
        Run r = exec(key, sandbox, null, "sh", "-c", "mkdir -p /tmp/www && echo " + page + " > /tmp/www/index.html && busybox httpd -p 8000 -h /tmp/www");
        assertThat(r.exit()).as(r.toString()).isZero();
    }

    static String ip(String key, String sandbox) throws Exception {
        var r = key == null ? daemon.call("GET", "/sandboxes/" + sandbox, null) : daemon.call("GET", "/sandboxes/" + sandbox, null, key);
        return json(r.body()).path("ip").asString();
    }

    /** The MAC the sandbox's ARP cache holds for its gateway, after a ping put it there. */
    static String gatewayMacSeenBy(String sandbox) throws Exception {
        String ip = ips.get(sandbox);
        String gateway = ip.substring(0, ip.lastIndexOf('.')) + ".1";
        Run ping = exec(null, sandbox, "root", "busybox", "ping", "-c", "1", "-W", "3", gateway);
        assertThat(ping.exit()).as(ping.toString()).isZero();
        String neigh = admin(sandbox, "ip", "neigh", "show", gateway).stdout(); // "10.211.0.1 dev eth0 lladdr 02:.. REACHABLE"
        assertThat(neigh).as("the ARP entry for the gateway").contains("lladdr ");
        return neigh.substring(neigh.indexOf("lladdr ") + 7).split(" ")[0];
    }

    @Test
    @Order(1)
    void sandboxesGetAddressesOnTheirUsersNetworks() throws Exception {
        var a1 = cli("create", "--name", "a1", "--memory", "256", "--json");
        assertThat(a1.exit()).as(a1.toString()).isZero();
        var a2 = cli("create", "--name", "a2", "--memory", "256", "--allow-host", TestNetwork.ALLOWED_NAME);
        assertThat(a2.exit()).as(a2.toString()).isZero();
        assertThat(a2.stdout()).contains("egress none");
        var b1 = asBob("create", "--name", "b1", "--memory", "256", "--json");
        assertThat(b1.exit()).as(b1.toString()).isZero();

        ips.put("a1", json(a1.stdout()).path("ip").asString());
        ips.put("a2", ip(null, "a2"));
        ips.put("b1", json(b1.stdout()).path("ip").asString());
        String adminNet = ips.get("a1").substring(0, ips.get("a1").lastIndexOf('.'));
        assertThat(ips.get("a1")).startsWith(POOL_PREFIX);
        assertThat(ips.get("a2")).as("one user, one /24").startsWith(adminNet + ".").isNotEqualTo(ips.get("a1"));
        assertThat(ips.get("b1")).startsWith(POOL_PREFIX).doesNotStartWith(adminNet + ".");
        // the guest was configured at boot with exactly that address
        assertThat(admin("a1", "ip", "-4", "-o", "addr", "show", "dev", "eth0").stdout()).contains(ips.get("a1") + "/24");
        // a1 booted with a neutral identity and became the booted template of its kind; a2 and b1 were restored
        // from it and took their own identity: hostname, address, MAC, machine id; none holds a1's name
        assertThat(daemon.log()).contains("created from template");
        var macs = new java.util.HashSet<String>();
        var machineIds = new java.util.HashSet<String>();
        for (var s : List.of(List.of("a1", ""), List.of("a2", ""), List.of("b1", bobKey))) {
            String key = s.get(1).isEmpty() ? null : s.get(1);
            String name = s.getFirst();
            var id = exec(key, name, "root", "sh", "-c", "hostname; cat /etc/machine-id; cat /sys/class/net/eth0/address; "
                    + "ip -4 -o addr show dev eth0; cat /proc/cmdline").stdout().lines().toList();
            assertThat(id.get(0)).isEqualTo(name);
            machineIds.add(id.get(1));
            macs.add(id.get(2));
            assertThat(id.get(3)).contains(ips.get(name) + "/24");
            assertThat(id.get(4)).contains("bhatti.hostname=bhatti").doesNotContain("a1").doesNotContain(ips.get("a1"));
        }
        assertThat(machineIds).hasSize(3);
        assertThat(macs).hasSize(3);
        // in the namespace too, QEMU is jailed, and its TAP was opened for it (it holds no name to open one by)
        Path a1Dir = dataDir.resolve("sandboxes").resolve(json(a1.stdout()).path("id").asString());
        QemuJail.assertJailed(a1Dir, 256, 1);
        QemuJail.assertTapPassedIn(a1Dir);

        var inspect = json(daemon.call("GET", "/sandboxes/a2", null).body());
        assertThat(inspect.path("egress").asString()).isEqualTo("none");
        assertThat(inspect.path("allow_hosts").get(0).asString()).isEqualTo(TestNetwork.ALLOWED_NAME);
        assertThat(net.links().stream().filter(l -> l.startsWith("bhbr")).count()).as("a bridge per user").isEqualTo(2);
        assertThat(net.links().stream().filter(l -> l.startsWith("bt")).count()).as("a TAP per sandbox").isEqualTo(3);

        gatewayMacSeenByA1 = gatewayMacSeenBy("a1");
        assertThat(gatewayMacSeenByA1).matches("[0-9a-f]{2}(:[0-9a-f]{2}){5}");

        serve(null, "a1", "a1-page");
        serve(null, "a2", "a2-page");
        serve(bobKey, "b1", "b1-page");
    }

    @Test
    @Order(2)
    void sandboxesOfOneUserReachEachOtherByAddressAndName() throws Exception {
        assertThat(curl(null, "a1", "http://" + ips.get("a2") + ":8000/").stdout()).contains("a2-page");
        assertThat(curl(null, "a2", "http://a1:8000/").stdout()).as("the resolver knows sibling names").contains("a1-page");
        assertThat(curl(null, "a2", "http://a1.sb:8000/").stdout()).contains("a1-page");
        // over TCP too (glibc's use-vc; a guest falls back to TCP when an answer comes truncated)
        assertThat(admin("a2", "env", "RES_OPTIONS=use-vc", "getent", "hosts", "a1").stdout()).contains(ips.get("a1"));
        // and an address gives the name back (PTR)
        assertThat(admin("a2", "getent", "hosts", ips.get("a1")).stdout()).as("reverse lookup").contains("a1.sb");
        Run arp = exec(null, "a1", "root", "busybox", "arping", "-c", "1", "-w", "3", "-I", "eth0", ips.get("a2"));
        assertThat(arp.exit()).as("siblings share a link: " + arp).isZero();
    }

    @Test
    @Order(3)
    void usersCannotExchangeAPacket() throws Exception {
        assertThat(curl(null, "a1", "http://" + ips.get("b1") + ":8000/").exit()).isEqualTo(CURL_TIMEOUT);
        assertThat(curl(bobKey, "b1", "http://" + ips.get("a1") + ":8000/").exit()).isEqualTo(CURL_TIMEOUT);
        assertThat(bob("b1", "getent", "hosts", "a1").exit()).as("another user's names are not resolved").isEqualTo(2);
        assertThat(bob("b1", "getent", "hosts", ips.get("a1")).stdout()).as("nor named from their addresses").doesNotContain("a1");
        // L2: ARP for the other user's address gets no answer, either way
        assertThat(exec(null, "a1", "root", "busybox", "arping", "-c", "2", "-w", "3", "-I", "eth0", ips.get("b1")).exit()).isNotZero();
        assertThat(exec(bobKey, "b1", "root", "busybox", "arping", "-c", "2", "-w", "3", "-I", "eth0", ips.get("a1")).exit()).isNotZero();
        // spoofing: an address of the other user's subnet, or another sibling's, gets a guest nowhere
        String bobNet = ips.get("b1").substring(0, ips.get("b1").lastIndexOf('.'));
        String adminNet = ips.get("a1").substring(0, ips.get("a1").lastIndexOf('.'));
        assertThat(exec(null, "a1", "root", "ip", "addr", "add", bobNet + ".77/24", "dev", "eth0").exit()).isZero();
        // unanswered ARP (7, no route to host) or dropped packets (28): either way, nothing came back
        assertThat(curl(null, "a1", "http://" + ips.get("b1") + ":8000/", "--interface", bobNet + ".77").exit()).isIn(7, CURL_TIMEOUT);
        assertThat(exec(null, "a1", "root", "ip", "addr", "add", adminNet + ".78/24", "dev", "eth0").exit()).isZero();
        assertThat(curl(null, "a1", "http://" + ips.get("a2") + ":8000/", "--interface", adminNet + ".78").exit()).isIn(7, CURL_TIMEOUT);
        exec(null, "a1", "root", "ip", "addr", "del", bobNet + ".77/24", "dev", "eth0");
        exec(null, "a1", "root", "ip", "addr", "del", adminNet + ".78/24", "dev", "eth0");
        // the host itself: only DNS and ping on the gateway; anything else is dropped, not refused
        assertThat(curl(null, "a1", "http://" + adminNet + ".1:9/").exit()).isEqualTo(CURL_TIMEOUT);
        assertThat(curl(null, "a1", "http://" + bobNet + ".1:53/").exit()).as("nor the other user's gateway").isEqualTo(CURL_TIMEOUT);
    }

    @Test
    @Order(4)
    void egressIsNatedAndNoneOpensOnlyAllowedHosts() throws Exception {
        assertThat(curl(null, "a1", "http://" + TestNetwork.WAN_IP2 + "/hello.txt").stdout()).contains(TestNetwork.WAN_PAGE);
        assertThat(admin("a1", "getent", "hosts", TestNetwork.ALLOWED_NAME).stdout()).as("upstream names resolve")
                .contains(TestNetwork.WAN_IP);
        assertThat(admin("a1", "env", "RES_OPTIONS=use-vc", "getent", "hosts", TestNetwork.OTHER_NAME).stdout())
                .as("and over TCP, forwarded over TCP").contains(TestNetwork.WAN_IP2);
        assertThat(curl(bobKey, "b1", "http://" + TestNetwork.ALLOWED_NAME + "/hello.txt").stdout()).contains(TestNetwork.WAN_PAGE);
        // egress all is the internet only: the same server on a LAN or metadata address is dropped
        assertThat(curl(null, "a1", "http://" + TestNetwork.LAN_IP + "/hello.txt").exit()).as("a LAN host").isEqualTo(CURL_TIMEOUT);
        assertThat(curl(null, "a1", "http://" + TestNetwork.METADATA_IP + "/hello.txt").exit()).as("metadata").isEqualTo(CURL_TIMEOUT);
        assertThat(curl(null, "a1", "http://" + TestNetwork.ALLOWED_PRIVATE_IP + "/hello.txt").stdout()).as("allowed by the operator")
                .contains(TestNetwork.WAN_PAGE);
        var lan = cli("create", "--name", "lan", "--memory", "256", "--allow-host", "192.168.77.0/24");
        assertThat(lan.exit()).as(lan.toString()).isNotZero();
        assertThat(lan.stderr()).contains("192.168.0.0/16").contains("network.allow_private");
        assertThat(daemon.call("GET", "/sandboxes/lan", null).statusCode()).as("nothing was made").isEqualTo(404);

        assertThat(curl(null, "a2", "http://" + TestNetwork.WAN_IP2 + "/hello.txt").exit()).as("egress none").isEqualTo(CURL_TIMEOUT);
        assertThat(curl(null, "a2", "http://" + TestNetwork.ALLOWED_NAME + "/hello.txt").stdout()).as("an allowed name")
                .contains(TestNetwork.WAN_PAGE);
        assertThat(admin("a2", "getent", "hosts", TestNetwork.OTHER_NAME).stdout()).contains(TestNetwork.WAN_IP2);
        assertThat(curl(null, "a2", "http://" + TestNetwork.OTHER_NAME + "/hello.txt").exit()).as("resolved but not allowed")
                .isEqualTo(CURL_TIMEOUT);
        assertThat(curl(null, "a2", "http://" + ips.get("a1") + ":8000/").stdout()).as("siblings stay reachable").contains("a1-page");
    }

    @Test
    @Order(5)
    void aCloneGetsItsOwnAddressAndBothKeepWorking() throws Exception {
        assertThat(cli("snapshot", "create", "a2", "--name", "s2").exit()).isZero();
        var c2 = cli("snapshot", "resume", "s2", "--name", "c2");
        assertThat(c2.exit()).as(c2.toString()).isZero();
        ips.put("c2", ip(null, "c2"));
        assertThat(ips.get("c2")).startsWith(POOL_PREFIX).isNotEqualTo(ips.get("a2"));
        assertThat(admin("c2", "ip", "-4", "-o", "addr", "show", "dev", "eth0").stdout()).contains(ips.get("c2") + "/24")
                .doesNotContain(ips.get("a2") + "/");
        String macA2 = admin("a2", "cat", "/sys/class/net/eth0/address").stdout().strip();
        String macC2 = admin("c2", "cat", "/sys/class/net/eth0/address").stdout().strip();
        assertThat(macC2).isNotEqualTo(macA2);
        // the clone's web server came with its memory; both answer, each at its own address
        assertPage(curl(null, "a1", "http://c2:8000/"), "a2-page");
        assertThat(curl(null, "a1", "http://" + ips.get("a2") + ":8000/").stdout()).contains("a2-page");
        assertThat(curl(null, "c2", "http://" + TestNetwork.ALLOWED_NAME + "/hello.txt").stdout()).as("the source's egress policy")
                .contains(TestNetwork.WAN_PAGE);
        assertThat(curl(null, "c2", "http://" + TestNetwork.WAN_IP2 + "/hello.txt").exit()).isEqualTo(CURL_TIMEOUT);
    }

    @Test
    @Order(6)
    void stopAndStartKeepTheNetwork() throws Exception {
        assertThat(cli("stop", "a2").exit()).isZero();
        assertThat(cli("start", "a2").exit()).isZero();
        assertPage(curl(null, "a1", "http://a2:8000/"), "a2-page");
        assertThat(curl(null, "a2", "http://" + TestNetwork.ALLOWED_NAME + "/hello.txt").stdout()).contains(TestNetwork.WAN_PAGE);
        assertThat(curl(null, "a2", "http://" + ips.get("a1") + ":8000/").stdout()).contains("a1-page");
    }

    @Test
    @Order(7)
    void aRestartedDaemonRemovesOrphansAndKeepsLiveSandboxes() throws Exception {
        daemon.kill();
        TestNetwork.sh("ip", "-n", net.sandboxes, "tuntap", "add", "dev", "bt0000000000000", "mode", "tap");
        TestNetwork.sh("ip", "-n", net.sandboxes, "link", "add", "name", "bhbr99", "type", "bridge");
        daemon.start();
        assertThat(net.links()).doesNotContain("bt0000000000000", "bhbr99");
        assertPage(curl(null, "a1", "http://c2:8000/"), "a2-page"); // names resolve after the restart
        // TAPs came and went (a clone, a stop and start, orphans), the daemon restarted: the gateway kept its
        // MAC, so no guest's ARP cache went stale (which cost it DNS and egress for half a minute)
        assertThat(gatewayMacSeenBy("a1")).isEqualTo(gatewayMacSeenByA1);
        assertThat(curl(bobKey, "b1", "http://" + TestNetwork.WAN_IP + "/hello.txt").stdout()).contains(TestNetwork.WAN_PAGE);
    }

    @Test
    @Order(8)
    void aGuestFloodingTheHostDoesNotStarveOthers() throws Exception {
        String gateway = ips.get("a1").substring(0, ips.get("a1").lastIndexOf('.')) + ".1";
        // 15 s of DNS questions as fast as a1 can send them, counting the answers
        String flood = "use IO::Socket::INET; my $s = IO::Socket::INET->new(PeerAddr => '" + gateway + ":53', Proto => 'udp') or die $!;"
                + " $s->blocking(0); my $q = pack('n6', 0x1234, 0x0100, 1, 0, 0, 0) . \"\\x02a2\\x00\" . pack('n2', 1, 1);"
                + " my ($n, $got, $buf) = (0, 0); my $end = time + 15;"
                + " while (time < $end) { for (1..50) { $n++ if $s->send($q) } $got++ while $s->recv($buf, 512); }"
                + " sleep 1; $got++ while $s->recv($buf, 512); print \"$n $got\\n\";";
        var flooding = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
            try {
                return exec(null, "a1", "root", "perl", "-e", flood);
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
        Thread.sleep(2000);
        int lookups = 0;
        while (!flooding.isDone()) {
            // the other user's sandbox, and a1's own sibling, keep resolving and the API keeps answering
            assertThat(bob("b1", "getent", "hosts", TestNetwork.ALLOWED_NAME).stdout()).contains(TestNetwork.WAN_IP);
            assertThat(admin("a2", "getent", "hosts", "a1").stdout()).contains(ips.get("a1"));
            lookups++;
        }
        Run r = flooding.get();
        assertThat(r.exit()).as(r.toString()).isZero();
        String[] counts = r.stdout().strip().split(" ");
        long sent = Long.parseLong(counts[0]);
        long answered = Long.parseLong(counts[1]);
        assertThat(lookups).as("lookups made during the flood").isPositive();
        assertThat(answered).as("the flood is answered, up to the limit: " + r.stdout()).isPositive()
                .isLessThanOrEqualTo(15 * 200 + 2 * 200 + 200); // 15 s at 200/s, a burst of 400, and a second of slack
        assertThat(sent).as("far more was sent than answered").isGreaterThan(answered * 2);
    }

    @Test
    @Order(9)
    void aPackageWithAServiceInstallsAndStartsUnderTheAgent() throws Exception {
        net.serveAptRepo("nginx");
        var pkg = cli("create", "--name", "pkg", "--memory", "512");
        assertThat(pkg.exit()).as(pkg.toString()).isZero();
        // dpkg under TCG on a busy host can take minutes: a generous deadline, this is not a timing test
        Run apt = exec(600, null, "pkg", "root", "sh", "-c", "echo 'deb [trusted=yes] " + TestNetwork.APT_REPO + " ./' > /etc/apt/sources.list"
                + " && rm -f /etc/apt/sources.list.d/* && apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q nginx");
        assertThat(apt.exit()).as(apt.stdout() + apt.stderr()).isZero();
        // the package's postinst enabled and started its unit through the agent's systemctl
        assertThat(admin("pkg", "curl", "-s", "-m", "5", "http://127.0.0.1/").stdout()).contains("Welcome to nginx");
        Run status = exec(null, "pkg", "root", "systemctl", "status", "nginx");
        assertThat(status.stdout()).contains("active (running)").contains("enabled");
        assertThat(exec(null, "pkg", "root", "systemctl", "is-enabled", "nginx").exit()).isZero();
        assertThat(cli("destroy", "-y", "pkg").exit()).isZero();
    }

    @Test
    @Order(10)
    void destroyReturnsEveryLinkAndRule() throws Exception {
        for (String s : List.of("a1", "a2", "c2")) assertThat(cli("destroy", "-y", s).exit()).isZero();
        assertThat(net.links()).filteredOn(l -> l.startsWith("bhbr")).as("the admin's bridge went with its last sandbox").hasSize(1);
        assertThat(asBob("destroy", "-y", "b1").exit()).isZero();
        assertThat(net.links()).noneMatch(l -> l.startsWith("bt") || l.startsWith("bhbr"));
        assertThat(net.ruleset()).doesNotContain("egress_").contains("masquerade");
        // the addresses are free again: a new sandbox gets the first one
        var again = cli("create", "--name", "again", "--memory", "256", "--json");
        assertThat(again.exit()).as(again.toString()).isZero();
        assertThat(json(again.stdout()).path("ip").asString()).isEqualTo(ips.get("a1"));
        assertThat(cli("destroy", "-y", "again").exit()).isZero();
    }
}
