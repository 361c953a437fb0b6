package dev.bhatti.cli;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The browser tier as its users drive it, on a real VM: headless-chrome.service answers CDP on
 * 127.0.0.1:9222 after boot; a Playwright script (npm's, on the guest's node, from any directory) loads a
 * page that another guest process serves, through that Chromium, and writes a screenshot the test reads
 * back and looks at; chromium.launch() starts the tier's Chromium with no download; a killed Chromium is
 * restarted by the agent's service manager and journalctl says so; a stop and start keeps it running.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@ExtendWith(DaemonLogOnFailure.class)
class TierBrowserIT {

    @RegisterExtension
    static final DaemonUnderTest bhatti = new DaemonUnderTest("bhatti-browser-").tiers("browser");

    static final String BOX = "scraper";
    static final Duration CHROME_START = Duration.ofMinutes(5);

    /** Two blocks of known colour on white: a blank or error page has neither. */
    static final String PAGE = """
            <!doctype html>
            <html><head><title>bhatti browser tier</title>
            <style>
              html, body { margin: 0; background: #ffffff; }
              #red { position: absolute; left: 0; top: 0; width: 400px; height: 300px; background: rgb(255, 0, 0); }
              #blue { position: absolute; left: 500px; top: 400px; width: 200px; height: 150px; background: rgb(0, 0, 255); }
            </style></head>
            <body><div id="red"></div><div id="blue"></div></body></html>
            """;

    /** The page through headless-chrome's CDP, then a browser of Playwright's own launching (no download). */
    static final String SHOT_JS = """
            const { chromium } = require('playwright');
            (async () => {
              const cdp = await chromium.connectOverCDP(process.env.CDP_URL);
              const context = cdp.contexts()[0] || await cdp.newContext();
              const page = await context.newPage();
              await page.setViewportSize({ width: 800, height: 600 });
              await page.goto(process.argv[2], { waitUntil: 'load', timeout: 180000 });
              console.log('title: ' + await page.title());
              await page.screenshot({ path: process.argv[3] });
              await page.close();
              await cdp.close();
              const launched = await chromium.launch({ timeout: 180000 });
              const p = await launched.newPage();
              await p.setContent('<title>launched</title>');
              console.log('launched: ' + launched.version() + ' ' + await p.title());
              await launched.close();
            })().catch((e) => { console.error(e); process.exit(1); });
            """;

    static Path dataDir;

    @BeforeAll
    static void setUp() { dataDir = bhatti.dataDir(); }

    static BhattiProcess.Result guest(String... cmd) throws Exception {
        var args = new java.util.ArrayList<>(List.of("exec", BOX, "--"));
        args.addAll(List.of(cmd));
        return bhatti.cli(args.toArray(String[]::new));
    }

    /** Waits until Chromium's DevTools endpoint answers in the guest; returns its /json/version. */
    static String awaitCdp() {
        var version = new String[1];
        await().atMost(CHROME_START).pollInterval(Duration.ofSeconds(1)).until(() -> {
            var r = guest("curl", "-sf", "-m", "10", "http://127.0.0.1:9222/json/version");
            version[0] = r.stdout();
            return r.exit() == 0 && r.stdout().contains("webSocketDebuggerUrl");
        });
        return version[0];
    }

    static long mainPid() throws Exception {
        return Long.parseLong(bhatti.exec(BOX, "systemctl", "show", "-p", "MainPID", "--value", "headless-chrome").strip());
    }

    static void write(String guestPath, String content) throws Exception {
        Path f = Files.createTempFile(dataDir, "guest", ".txt");
        Files.writeString(f, content);
        var r = BhattiProcess.cliWithInput(bhatti.daemon().env, f, "file", "write", BOX, guestPath);
        assertThat(r.exit()).as(r.toString()).isZero();
    }

    /** {@code bhatti file read} into a byte array (its stdout is binary). */
    static byte[] read(String guestPath) throws Exception {
        Path out = Files.createTempFile(dataDir, "read", ".bin");
        var pb = new ProcessBuilder(BhattiProcess.JAVA, "--enable-native-access=ALL-UNNAMED", "-jar", BhattiProcess.JAR.toString(),
                "file", "read", BOX, guestPath).redirectOutput(out.toFile()).redirectError(ProcessBuilder.Redirect.INHERIT);
        pb.environment().putAll(bhatti.daemon().env);
        Process p = pb.start();
        assertThat(p.waitFor(2, TimeUnit.MINUTES)).as("file read finished").isTrue();
        assertThat(p.exitValue()).as("file read " + guestPath).isZero();
        return Files.readAllBytes(out);
    }

    static String rgb(BufferedImage img, int x, int y) { return String.format("%06x", img.getRGB(x, y) & 0xffffff); }

    @Test @Order(1)
    void chromiumAnswersCdpAfterBoot() throws Exception {
        long t0 = System.nanoTime();
        bhatti.ok("create", "--name", BOX, "--image", "browser", "--memory", "1024");
        long created = System.nanoTime();
        String version = awaitCdp();
        long ready = System.nanoTime();
        System.out.printf("browser tier: create %d ms, then CDP after %d ms (boot to CDP %d ms)%n",
                (created - t0) / 1_000_000, (ready - created) / 1_000_000, (ready - t0) / 1_000_000);
        assertThat(version).contains("\"Browser\": \"Chrome/").contains("HeadlessChrome");
        var status = guest("systemctl", "status", "headless-chrome");
        assertThat(status.stdout()).as(status.toString()).contains("active (running)").contains("enabled");
        // CDP gives whoever reaches it the browser: loopback only, never the sandbox's network
        String listening = bhatti.exec(BOX, "ss", "-Hltn", "sport = :9222");
        assertThat(listening).contains("127.0.0.1:9222").doesNotContain("0.0.0.0:9222").doesNotContain("*:9222");
        // Chromium's own sandbox is on: its renderers live in a user namespace of their own
        assertThat(bhatti.exec(BOX, "sh", "-c", "ps -o args= -u bhatti | grep -c -- '--no-[s]andbox' || true").strip()).isEqualTo("0");
        String namespaces = bhatti.exec(BOX, "sh", "-c",
                "for p in $(pgrep -u bhatti -f /usr/lib/chromium/chromium); do readlink /proc/$p/ns/user; done 2>/dev/null | sort -u | wc -l");
        assertThat(Integer.parseInt(namespaces.strip())).as("user namespaces of Chromium's processes (the browser's and its sandbox's)").isGreaterThanOrEqualTo(2);
    }

    @Test @Order(2)
    void playwrightInTheGuestScreenshotsAPageAnotherGuestProcessServes() throws Exception {
        awaitCdp();
        write("/workspace/site/index.html", PAGE);
        write("/workspace/shot.js", SHOT_JS);
        bhatti.ok("exec", "--detach", BOX, "--", "busybox", "httpd", "-f", "-p", "127.0.0.1:8000", "-h", "/workspace/site");
        await().atMost(Duration.ofMinutes(1)).pollInterval(Duration.ofMillis(500))
                .until(() -> guest("curl", "-sf", "http://127.0.0.1:8000/").stdout().contains("bhatti browser tier"));

        long t0 = System.nanoTime();
        // from / with no node_modules around: NODE_PATH and the browser paths come from /etc/bhatti/tier.env
        var shot = bhatti.cli("exec", "--timeout", "900", "--workdir", "/", BOX, "--",
                "node", "/workspace/shot.js", "http://127.0.0.1:8000/", "/workspace/shot.png");
        System.out.printf("browser tier: node shot.js (CDP screenshot + launch) %d ms%n", (System.nanoTime() - t0) / 1_000_000);
        assertThat(shot.exit()).as(shot.toString()).isZero();
        assertThat(shot.stdout()).contains("title: bhatti browser tier").containsPattern("launched: \\d+\\.\\d+\\S* launched");
        assertThat(shot.stdout() + shot.stderr()).doesNotContainIgnoringCase("download");

        byte[] png = read("/workspace/shot.png");
        BufferedImage img = ImageIO.read(new java.io.ByteArrayInputStream(png));
        assertThat(img).as("a PNG (%d bytes)", png.length).isNotNull();
        assertThat(img.getWidth()).isEqualTo(800);
        assertThat(img.getHeight()).isEqualTo(600);
        assertThat(rgb(img, 10, 10)).as("red block, top left").isEqualTo("ff0000");
        assertThat(rgb(img, 390, 290)).as("red block, bottom right").isEqualTo("ff0000");
        assertThat(rgb(img, 600, 475)).as("blue block").isEqualTo("0000ff");
        assertThat(rgb(img, 450, 100)).as("white page between").isEqualTo("ffffff");
        assertThat(rgb(img, 100, 500)).as("white page below").isEqualTo("ffffff");
    }

    @Test @Order(3)
    void aKilledChromiumIsRestartedAndTheJournalSaysSo() throws Exception {
        awaitCdp();
        long before = mainPid();
        assertThat(before).isPositive();
        long t0 = System.nanoTime();
        bhatti.exec(BOX, "sudo", "kill", "-9", Long.toString(before));
        await().atMost(CHROME_START).pollInterval(Duration.ofSeconds(1)).until(() -> {
            var r = guest("systemctl", "show", "-p", "MainPID", "--value", "headless-chrome");
            return r.exit() == 0 && !r.stdout().isBlank() && !r.stdout().strip().equals("0") && !r.stdout().strip().equals(Long.toString(before));
        });
        awaitCdp();
        System.out.printf("browser tier: Chromium killed, CDP back after %d ms%n", (System.nanoTime() - t0) / 1_000_000);
        var journal = guest("journalctl", "-u", "headless-chrome");
        assertThat(journal.exit()).as(journal.toString()).isZero();
        assertThat(journal.stdout()).contains("headless-chrome.service exited with 137; restarting in");
        assertThat(journal.stdout().split("DevTools listening on ws://127.0.0.1:9222/", -1)).as("two starts in the journal").hasSizeGreaterThanOrEqualTo(3);
    }

    @Test @Order(4)
    void chromiumSurvivesAStopAndStart() throws Exception {
        awaitCdp();
        long pid = mainPid();
        long t0 = System.nanoTime();
        bhatti.ok("stop", BOX);
        long stopped = System.nanoTime();
        assertThat(bhatti.inspect(BOX).path("thermal").asString()).isEqualTo("cold");
        bhatti.ok("start", BOX);
        long started = System.nanoTime();
        awaitCdp();
        long ready = System.nanoTime();
        System.out.printf("browser tier: stop %d ms, start %d ms, CDP answering %d ms after start%n",
                (stopped - t0) / 1_000_000, (started - stopped) / 1_000_000, (ready - started) / 1_000_000);
        assertThat(mainPid()).as("the same Chromium, resumed with the sandbox's memory").isEqualTo(pid);
        var target = guest("curl", "-sf", "-m", "60", "-X", "PUT", "http://127.0.0.1:9222/json/new?about:blank");
        assertThat(target.exit()).as(target.toString()).isZero();
        assertThat(target.stdout()).contains("\"type\": \"page\"");
    }
}
