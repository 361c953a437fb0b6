package dev.bhatti.cli;

import com.microsoft.playwright.Browser;
import com.microsoft.playwright.BrowserType;
import com.microsoft.playwright.Locator;
import com.microsoft.playwright.Page;
import com.microsoft.playwright.Playwright;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;
import tools.jackson.databind.JsonNode;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The computer tier in a real guest: its desktop reached the way a person reaches it (Debian's
 * Chromium opening the published noVNC page and logging in with the sandbox's own VNC password) and
 * the way an agent does (the desktop API: screenshots, clicks, typing and keys over the agent
 * channel). Each sandbox has its own password, also one restored from the template another booted.
 */
@ExtendWith(DaemonLogOnFailure.class)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class TierComputerIT {
    static final Path CHROMIUM = Path.of("/usr/lib/chromium/chromium");
    static final Duration DESKTOP_UP = Duration.ofMinutes(5);

    @RegisterExtension
    static final DaemonUnderTest bhatti = new DaemonUnderTest("bhatti-computer-").tiers("computer")
            // never paused for idleness: the desktop boots for a minute or two with nobody asking anything of it
            .config("thermal: {warm_after_sec: 0, cold_after_sec: 0}\n");

    static BhattiProcess.Daemon daemon;
    static Playwright playwright;
    static Browser browser;
    static String url;
    static String password;

    @BeforeAll
    static void setUp() throws Exception {
        daemon = bhatti.daemon();
        long started = System.nanoTime();
        var created = cli("create", "--name", "desk", "--image", "computer", "--cpus", "2", "--memory", "2048");
        assertThat(created.exit()).as(created.toString()).isZero();
        assertThat(created.stderr()).as("2 vCPUs meet the tier's minimum").doesNotContain("warning");
        timing("create (2 vCPU, 2048 MB)", started);
        var pub = cli("publish", "desk", "-p", "6080", "--json");
        assertThat(pub.exit()).as(pub.toString()).isZero();
        url = json(pub.stdout()).path("url").asString();
        // curl resolves *.localhost to loopback itself, as browsers do (the JDK's client asks the system resolver)
        await().atMost(DESKTOP_UP).pollInterval(Duration.ofSeconds(1)).untilAsserted(() -> {
            var curl = new ProcessBuilder("curl", "-sf", "-m", "20", url + "vnc.html").redirectErrorStream(true).start();
            String page = new String(curl.getInputStream().readAllBytes());
            assertThat(curl.waitFor()).isZero();
            assertThat(page).contains("noVNC");
        });
        timing("create to the noVNC page served", started);
        // the desktop is drawn once the panel (light, on top) and the background (dark) are on the screen
        await().atMost(DESKTOP_UP).pollInterval(Duration.ofSeconds(3)).untilAsserted(() -> {
            BufferedImage shot = screenshot("desk");
            assertThat(brightness(dominant(shot, 0, 0, 1280, 20))).as("the panel on top is light, the desktop dark")
                    .isGreaterThan(brightness(dominant(shot, 0, 100, 1280, 600)) + 200);
        });
        timing("create to the desktop drawn (panel and background in the screenshot)", started);
        var creds = exec("desk", "vnc-creds");
        assertThat(creds.exit()).as(creds.toString()).isZero();
        password = creds.stdout().strip();
        assertThat(password).matches("[A-Za-z0-9]{8}");

        playwright = Playwright.create(new Playwright.CreateOptions().setEnv(Map.of("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")));
        browser = playwright.chromium().launch(new BrowserType.LaunchOptions().setExecutablePath(CHROMIUM).setHeadless(true)
                .setArgs(List.of("--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                        "--disable-sync", "--no-first-run")));
    }

    @AfterAll
    static void tearDown() {
        if (browser != null) browser.close();
        if (playwright != null) playwright.close();
    }

    static BhattiProcess.Result cli(String... args) throws Exception { return BhattiProcess.cli(daemon.env, args); }

    static BhattiProcess.Result exec(String sandbox, String... cmd) throws Exception {
        var args = new java.util.ArrayList<>(List.of("exec", sandbox, "--"));
        args.addAll(List.of(cmd));
        return cli(args.toArray(String[]::new));
    }

    static JsonNode json(String s) { return ApiClient.JSON.readTree(s); }

    static void timing(String what, long startedNanos) {
        System.out.printf("[timing] %s: %.1f s%n", what, (System.nanoTime() - startedNanos) / 1e9);
    }

    static BufferedImage png(byte[] bytes) throws Exception {
        BufferedImage img = ImageIO.read(new ByteArrayInputStream(bytes));
        assertThat(img).as("a PNG").isNotNull();
        return img;
    }

    /** The desktop API's screenshot, through the CLI into a file. */
    static BufferedImage screenshot(String sandbox) throws Exception {
        Path f = Files.createTempFile("bhatti-screen", ".png");
        try {
            var r = cli("desktop", "screenshot", sandbox, "-o", f.toString());
            assertThat(r.exit()).as(r.toString()).isZero();
            return png(Files.readAllBytes(f));
        } finally {
            Files.deleteIfExists(f);
        }
    }

    static int rgb(BufferedImage img, int x, int y) { return img.getRGB(x, y) & 0xffffff; }

    /** The most common colour of a region (a desktop's background, a window's body). */
    static int dominant(BufferedImage img, int x0, int y0, int w, int h) {
        var counts = new HashMap<Integer, Integer>();
        for (int y = y0; y < y0 + h; y += 2) for (int x = x0; x < x0 + w; x += 2) counts.merge(rgb(img, x, y), 1, Integer::sum);
        return counts.entrySet().stream().max(Map.Entry.comparingByValue()).orElseThrow().getKey();
    }

    static int distinctColours(BufferedImage img) {
        var seen = new HashSet<Integer>();
        for (int y = 0; y < img.getHeight(); y += 2) for (int x = 0; x < img.getWidth(); x += 2) seen.add(rgb(img, x, y));
        return seen.size();
    }

    static int brightness(int rgb) { return ((rgb >> 16) & 0xff) + ((rgb >> 8) & 0xff) + (rgb & 0xff); }

    static boolean near(int a, int b) {
        return Math.abs(((a >> 16) & 0xff) - ((b >> 16) & 0xff)) <= 24 && Math.abs(((a >> 8) & 0xff) - ((b >> 8) & 0xff)) <= 24
                && Math.abs((a & 0xff) - (b & 0xff)) <= 24;
    }

    @Test
    @Order(1)
    void aBrowserOpensThePublishedDesktopAndLogsInWithTheSandboxsPassword() throws Exception {
        BufferedImage api = screenshot("desk");
        assertThat(api.getWidth()).isEqualTo(1280);
        assertThat(api.getHeight()).isEqualTo(800);
        int background = dominant(api, 0, 100, 1280, 600);
        int panel = dominant(api, 0, 0, 1280, 20);
        assertThat(brightness(panel)).as("the panel on top is light, the desktop dark").isGreaterThan(brightness(background) + 200);

        long started = System.nanoTime();
        Page page = browser.newPage(new Browser.NewPageOptions().setViewportSize(1280, 800));
        page.navigate(url); // index.html sends the browser on to vnc.html with the websocket's path under the published URL
        page.waitForSelector("#noVNC_password_input", new Page.WaitForSelectorOptions().setTimeout(120_000));
        page.fill("#noVNC_password_input", password);
        page.click("#noVNC_credentials_button");
        page.waitForSelector("html.noVNC_connected", new Page.WaitForSelectorOptions().setTimeout(120_000));
        timing("noVNC page to connected", started);
        Locator canvas = page.locator("#noVNC_container canvas");
        // the first frame arrives after the connect: wait until the canvas shows the desktop, not black
        BufferedImage[] seen = new BufferedImage[1];
        await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofSeconds(2)).untilAsserted(() -> {
            seen[0] = png(canvas.screenshot());
            assertThat(distinctColours(seen[0])).as("a drawn desktop, not a blank or an error page").isGreaterThan(40);
        });
        BufferedImage shot = seen[0];
        int w = shot.getWidth(), h = shot.getHeight();
        assertThat(near(dominant(shot, 0, h / 8, w, h * 3 / 4), background)).as("the desktop's colour, as the API's screenshot has it: "
                + Integer.toHexString(dominant(shot, 0, h / 8, w, h * 3 / 4)) + " vs " + Integer.toHexString(background)).isTrue();
        assertThat(near(dominant(shot, 0, 0, w, Math.max(4, h / 40)), panel)).as("the panel at the top").isTrue();
        page.close();

        Page wrong = browser.newPage();
        wrong.navigate(url);
        wrong.waitForSelector("#noVNC_password_input", new Page.WaitForSelectorOptions().setTimeout(120_000));
        wrong.fill("#noVNC_password_input", password.equals("wrongpw1") ? "wrongpw2" : "wrongpw1");
        wrong.click("#noVNC_credentials_button");
        wrong.waitForFunction("() => /rejected|authentication fail/i.test(document.getElementById('noVNC_status').textContent)", null,
                new Page.WaitForFunctionOptions().setTimeout(120_000));
        assertThat(wrong.locator("html.noVNC_connected").count()).isZero();
        wrong.close();
    }

    @Test
    @Order(2)
    void theDesktopApiSeesAWindowAndTypesIntoIt() throws Exception {
        var size = cli("desktop", "size", "desk", "--json");
        assertThat(size.exit()).as(size.toString()).isZero();
        assertThat(json(size.stdout()).path("width").asInt()).isEqualTo(1280);
        assertThat(cli("desktop", "size", "desk").stdout()).isEqualTo("1280x800\n");
        assertThat(exec("desk", "screen-size").stdout()).isEqualTo("1280x800\n");
        var b64 = exec("desk", "screenshot", "--base64");
        assertThat(b64.exit()).as(b64.toString()).isZero();
        assertThat(png(java.util.Base64.getDecoder().decode(b64.stdout().strip())).getWidth()).as("the guest's own helper").isEqualTo(1280);
        BufferedImage before = screenshot("desk");
        int background = dominant(before, 0, 100, 1280, 600);

        var open = exec("desk", "sh", "-c", "setsid xfce4-terminal --title=bhatti-it-term --geometry=80x20+200+150"
                + " --working-directory=/tmp </dev/null >/tmp/term.log 2>&1 &");
        assertThat(open.exit()).as(open.toString()).isZero();
        String[] row = new String[1];
        await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofSeconds(1)).untilAsserted(() -> {
            var windows = exec("desk", "list-windows");
            assertThat(windows.stdout()).contains("bhatti-it-term");
            row[0] = windows.stdout().lines().filter(l -> l.endsWith("bhatti-it-term")).findFirst().orElseThrow();
        });
        // ID DESKTOP PID X Y WIDTH HEIGHT HOST TITLE
        String[] f = row[0].trim().split("\\s+");
        int x = Integer.parseInt(f[3]), y = Integer.parseInt(f[4]), w = Integer.parseInt(f[5]), h = Integer.parseInt(f[6]);
        await().atMost(Duration.ofMinutes(1)).pollInterval(Duration.ofSeconds(1)).untilAsserted(() -> {
            BufferedImage shot = screenshot("desk");
            assertThat(near(dominant(shot, x + 10, y + 10, w - 20, h - 20), background))
                    .as("the terminal's window covers the desktop in the screenshot").isFalse();
        });
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(exec("desk", "active-window").stdout()).contains("bhatti-it-term"));

        var click = cli("desktop", "click", "desk", Integer.toString(x + w / 2), Integer.toString(y + h / 2), "--json");
        assertThat(click.exit()).as(click.toString()).isZero();
        assertThat(json(click.stdout()).path("button").asString()).isEqualTo("left");
        var type = cli("desktop", "type", "desk", "echo typed-$((6*7)) > /tmp/typed.txt");
        assertThat(type.exit()).as(type.toString()).isZero();
        var key = cli("desktop", "key", "desk", "Return");
        assertThat(key.exit()).as(key.toString()).isZero();
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofSeconds(1)).untilAsserted(() ->
                assertThat(exec("desk", "cat", "/tmp/typed.txt").stdout()).isEqualTo("typed-42\n"));
        // a combination: ctrl+u clears the line, then the typed command never runs
        assertThat(cli("desktop", "type", "desk", "touch /tmp/never").exit()).isZero();
        assertThat(cli("desktop", "key", "desk", "ctrl+u", "Return").exit()).isZero();
        assertThat(cli("desktop", "type", "desk", "touch /tmp/after\n").exit()).isZero();
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofSeconds(1)).untilAsserted(() ->
                assertThat(exec("desk", "ls", "/tmp/after").exit()).isZero());
        assertThat(exec("desk", "ls", "/tmp/never").exit()).as("ctrl+u cleared the line").isNotZero();
    }

    @Test
    @Order(3)
    void badInputIsRefusedWithAReason() throws Exception {
        var outside = cli("desktop", "click", "desk", "5000", "10");
        assertThat(outside.exit()).isNotZero();
        assertThat(outside.stderr()).contains("400").contains("outside the screen").contains("1280x800");
        var button = cli("desktop", "click", "desk", "10", "10", "--button", "sideways");
        assertThat(button.stderr()).contains("400").contains("button must be");
        var keys = cli("desktop", "key", "desk", "ctrl+;");
        assertThat(keys.stderr()).contains("400").contains("bad key combination");
        var http = HttpClient.newHttpClient();
        String key = Files.readString(bhatti.dataDir().resolve("admin-api-key")).strip();
        var negative = http.send(HttpRequest.newBuilder(URI.create(daemon.url() + "/sandboxes/desk/desktop/click"))
                .header("Authorization", "Bearer " + key).POST(HttpRequest.BodyPublishers.ofString("{\"x\":-1,\"y\":5}")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(negative.statusCode()).isEqualTo(400);
        assertThat(negative.body()).contains("x must be between 0");
        var longText = http.send(HttpRequest.newBuilder(URI.create(daemon.url() + "/sandboxes/desk/desktop/type"))
                .header("Authorization", "Bearer " + key)
                .POST(HttpRequest.BodyPublishers.ofString("{\"text\":\"" + "a".repeat(5000) + "\"}")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(longText.statusCode()).isEqualTo(400);
        assertThat(longText.body()).contains("at most 4096");
        var shot = http.send(HttpRequest.newBuilder(URI.create(daemon.url() + "/sandboxes/desk/desktop/screenshot"))
                .header("Authorization", "Bearer " + key).build(), HttpResponse.BodyHandlers.ofByteArray());
        assertThat(shot.statusCode()).isEqualTo(200);
        assertThat(shot.headers().firstValue("Content-Type")).hasValue("image/png");
        assertThat(png(shot.body()).getWidth()).isEqualTo(1280);
    }

    @Test
    @Order(4)
    void aSandboxWithoutADisplayAnswers409() throws Exception {
        var plain = cli("create", "--name", "plain", "--memory", "256");
        assertThat(plain.exit()).as(plain.toString()).isZero();
        var shot = cli("desktop", "screenshot", "plain", "-o", "/dev/null");
        assertThat(shot.exit()).isNotZero();
        assertThat(shot.stderr()).contains("409").contains("sandbox plain has no display (create it with --image computer)");
        assertThat(cli("desktop", "click", "plain", "1", "1").stderr()).contains("409").contains("has no display");
        assertThat(cli("destroy", "-y", "plain").exit()).isZero();
    }

    @Test
    @Order(5)
    void everySandboxHasItsOwnVncPasswordAndOneVcpuWorksWithAWarning() throws Exception {
        // the same size as desk: restored from the template desk's first boot left, a new machine with its own password
        long started = System.nanoTime();
        var twin = cli("create", "--name", "twin", "--image", "computer", "--cpus", "2", "--memory", "2048");
        assertThat(twin.exit()).as(twin.toString()).isZero();
        timing("create of a second desktop (template restore)", started);
        String[] twinPassword = new String[1];
        await().atMost(Duration.ofMinutes(1)).untilAsserted(() -> {
            var creds = exec("twin", "vnc-creds");
            assertThat(creds.exit()).as(creds.toString()).isZero();
            twinPassword[0] = creds.stdout().strip();
        });
        assertThat(twinPassword[0]).matches("[A-Za-z0-9]{8}").isNotEqualTo(password);
        assertThat(exec("twin", "cat", "/etc/machine-id").stdout()).isNotEqualTo(exec("desk", "cat", "/etc/machine-id").stdout());
        // what Xvnc checks is the new password: the obfuscated file was made with it
        var check = exec("twin", "sudo", "sh", "-c", "printf '%s\\n' \"$(vnc-creds)\" | vncpasswd -f | cmp - /etc/bhatti/vnc/passwd && echo same");
        assertThat(check.stdout()).as(check.toString()).contains("same");
        assertThat(cli("destroy", "-y", "twin").exit()).isZero();

        var small = cli("create", "--name", "small", "--image", "computer", "--cpus", "1", "--memory", "1536");
        assertThat(small.exit()).as(small.toString()).isZero();
        assertThat(small.stderr()).contains("warning: image computer recommends at least 2 vCPUs (this sandbox has 1)");
        var json = cli("inspect", "small", "--json");
        assertThat(json(json.stdout()).path("cpus").asInt()).isEqualTo(1);
        var creds = exec("small", "vnc-creds");
        assertThat(creds.exit()).as(creds.toString()).isZero();
        assertThat(creds.stdout().strip()).isNotEqualTo(password).isNotEqualTo(twinPassword[0]);
        assertThat(cli("destroy", "-y", "small").exit()).isZero();
    }

    @Test
    @Order(6)
    void theDesktopSurvivesAStopAndAStart() throws Exception {
        long started = System.nanoTime();
        var stop = cli("stop", "desk");
        assertThat(stop.exit()).as(stop.toString()).isZero();
        timing("stop (snapshot to disk)", started);
        started = System.nanoTime();
        var start = cli("start", "desk");
        assertThat(start.exit()).as(start.toString()).isZero();
        timing("start (restore)", started);
        assertThat(exec("desk", "vnc-creds").stdout().strip()).as("the same machine keeps its password").isEqualTo(password);
        assertThat(exec("desk", "list-windows").stdout()).as("the session and its windows").contains("xfce4-panel").contains("bhatti-it-term");
        assertThat(exec("desk", "systemctl", "is-active", "xvnc", "novnc", "xfce-session").stdout()).isEqualTo("active\nactive\nactive\n");
        assertThat(screenshot("desk").getWidth()).isEqualTo(1280);
    }
}
