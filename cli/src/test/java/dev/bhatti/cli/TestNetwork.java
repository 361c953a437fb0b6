package dev.bhatti.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Two network namespaces a test owns: {@code sandboxes}, where the daemon puts bridges, TAPs, rules and
 * VMs, and {@code wan}, standing in for the internet behind it (198.18.0.2 and .3, benchmark-test
 * addresses) with an HTTP server and a DNS server. The HTTP server also answers on addresses no
 * sandbox may reach unless the operator allows them (a LAN host, cloud metadata, a private host the
 * test's config allows), routed there as a cloud's or a LAN's would be. No packet leaves these namespaces.
 */
final class TestNetwork implements AutoCloseable {
    static final String WAN_IP = "198.18.0.2";
    static final String WAN_IP2 = "198.18.0.3";
    /** Names the wan's DNS server answers: one per wan address. */
    static final String ALLOWED_NAME = "pkg.wan.test";
    static final String OTHER_NAME = "other.wan.test";
    static final String WAN_PAGE = "hello-from-wan";
    static final String LAN_IP = "192.168.77.10";
    static final String METADATA_IP = "169.254.169.254";
    /** In 10.0.5.0/24, which a test's config may allow (network.allow_private). */
    static final String ALLOWED_PRIVATE_IP = "10.0.5.10";

    final String sandboxes;
    final String wan;
    private final Path dir;
    private final List<Process> servers = new ArrayList<>();

    TestNetwork(Path dir) throws Exception {
        String id = Long.toHexString(System.nanoTime() & 0xffffffL);
        this.sandboxes = "bhit-s-" + id;
        this.wan = "bhit-w-" + id;
        this.dir = dir;
        try {
            build();
        } catch (Exception | AssertionError e) {
            close();
            throw e;
        }
    }

    private void build() throws Exception {
        sh("ip", "netns", "add", sandboxes);
        sh("ip", "netns", "add", wan);
        sh("ip", "-n", sandboxes, "link", "set", "lo", "up");
        sh("ip", "-n", wan, "link", "set", "lo", "up");
        sh("ip", "-n", sandboxes, "link", "add", "uplink", "type", "veth", "peer", "name", "wanside", "netns", wan);
        sh("ip", "-n", sandboxes, "addr", "add", "198.18.0.1/24", "dev", "uplink");
        sh("ip", "-n", sandboxes, "link", "set", "uplink", "up");
        sh("ip", "-n", sandboxes, "route", "add", "default", "via", WAN_IP);
        sh("ip", "-n", wan, "addr", "add", WAN_IP + "/24", "dev", "wanside");
        sh("ip", "-n", wan, "addr", "add", WAN_IP2 + "/24", "dev", "wanside");
        sh("ip", "-n", wan, "link", "set", "wanside", "up");
        for (String a : List.of(LAN_IP, METADATA_IP, ALLOWED_PRIVATE_IP)) sh("ip", "-n", wan, "addr", "add", a + "/32", "dev", "lo");
        // no route back to the sandbox pool: only NAT lets a sandbox's traffic be answered
        Path www = Files.createDirectories(dir.resolve("www"));
        Files.writeString(www.resolve("hello.txt"), WAN_PAGE + "\n");
        servers.add(start("busybox", "httpd", "-f", "-p", "80", "-h", www.toString()));
        servers.add(start("dnsmasq", "--keep-in-foreground", "--no-resolv", "--no-hosts", "--bind-interfaces",
                "--listen-address=" + WAN_IP, "--address=/" + ALLOWED_NAME + "/" + WAN_IP, "--address=/" + OTHER_NAME + "/" + WAN_IP2,
                "--pid-file=" + dir.resolve("dnsmasq.pid")));
    }

    private Process start(String... argv) throws IOException {
        var cmd = new ArrayList<>(List.of("ip", "netns", "exec", wan));
        cmd.addAll(List.of(argv));
        return new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("wan-servers.log").toFile())).start();
    }

    /** Where the wan serves a flat apt repository: {@code deb [trusted=yes] <APT_REPO> ./}. */
    static final String APT_REPO = "http://" + WAN_IP + "/debian";
    static final Path APT_CACHE = Path.of(System.getenv().getOrDefault("BHATTI_IT_APT", "/var/cache/bhatti-build/apt-repo"));

    /**
     * Serves {@code packages} and everything they depend on (downloaded once with the host's apt, from
     * the same Debian release as the guests) as a flat repository on the wan, standing in for a mirror.
     */
    void serveAptRepo(String... packages) throws Exception {
        Files.createDirectories(APT_CACHE);
        String names = out("sh", "-c", "apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks "
                + "--no-replaces --no-enhances " + String.join(" ", packages) + " | grep '^[a-z0-9]' | sort -u").replace('\n', ' ');
        var download = new ProcessBuilder("sh", "-c", "apt-get download " + names).directory(APT_CACHE.toFile()).redirectErrorStream(true).start();
        String log = new String(download.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (download.waitFor() != 0) throw new AssertionError("apt-get download failed: " + log);
        sh("sh", "-c", "cd " + APT_CACHE + " && for f in *.deb; do dpkg-deb -f \"$f\"; echo \"Filename: ./$f\"; "
                + "echo \"Size: $(stat -c %s \"$f\")\"; echo \"SHA256: $(sha256sum \"$f\" | cut -d' ' -f1)\"; echo; done > Packages"
                + " && printf 'Origin: bhatti-test\\nLabel: bhatti-test\\nSuite: stable\\nCodename: bhatti-test\\nDate: %s\\nSHA256:\\n %s %s Packages\\n'"
                + " \"$(date -Ru)\" \"$(sha256sum Packages | cut -d' ' -f1)\" \"$(stat -c %s Packages)\" > Release");
        Path link = dir.resolve("www").resolve("debian");
        if (!Files.exists(link)) Files.createSymbolicLink(link, APT_CACHE);
    }

    /** The names of the links in the sandboxes' namespace. */
    List<String> links() throws Exception {
        var names = new ArrayList<String>();
        for (String line : out("ip", "-n", sandboxes, "-o", "link", "show").split("\n")) {
            String[] f = line.split(": ", 3);
            if (f.length > 1) names.add(f[1].split("@")[0]);
        }
        return names;
    }

    String ruleset() throws Exception { return out("ip", "netns", "exec", sandboxes, "nft", "list", "ruleset"); }

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

    @Override
    public void close() throws Exception {
        for (Process p : servers) p.destroyForcibly().waitFor();
        // deleting a namespace removes the links in it (bridges, TAPs, the veth pair) and its rules
        out("ip", "netns", "del", sandboxes);
        out("ip", "netns", "del", wan);
    }
}
