package dev.bhatti.cli;

import com.microsoft.playwright.Browser;
import com.microsoft.playwright.BrowserType;
import com.microsoft.playwright.Page;
import com.microsoft.playwright.Playwright;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;
import tools.jackson.databind.JsonNode;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The shared web shell in a real browser (Debian's Chromium driven by Playwright) against a real
 * sandbox: the page connects with the token from its link, typed commands run, and revoking the link
 * disconnects the page and refuses it from then on.
 */
@ExtendWith(DaemonLogOnFailure.class)
class WebShellIT {
    static final Path CHROMIUM = Path.of("/usr/lib/chromium/chromium");
    static Path dataDir;
    static BhattiProcess.Daemon daemon;
    static Playwright playwright;
    static Browser browser;

    @RegisterExtension
    static final DaemonUnderTest bhatti = new DaemonUnderTest("bhatti-webshell-").config("thermal: {warm_after_sec: 0, cold_after_sec: 0}\n");

    @BeforeAll
    static void setUp() throws Exception {
        dataDir = bhatti.dataDir();
        daemon = bhatti.daemon();
        var created = BhattiProcess.cli(daemon.env, "create", "--name", "sh1", "--memory", "256");
        assertThat(created.exit()).as(created.toString()).isZero();
        playwright = Playwright.create(new Playwright.CreateOptions().setEnv(Map.of("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")));
        browser = playwright.chromium().launch(new BrowserType.LaunchOptions().setExecutablePath(CHROMIUM).setHeadless(true)
                .setArgs(List.of("--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                        "--disable-sync", "--no-first-run")));
    }

    @AfterAll
    static void tearDown() throws Exception {
        if (browser != null) browser.close();
        if (playwright != null) playwright.close();
    }

    static JsonNode json(String s) { return ApiClient.JSON.readTree(s); }

    static String share() throws Exception {
        var r = BhattiProcess.cli(daemon.env, "share", "sh1", "--json");
        assertThat(r.exit()).as(r.toString()).isZero();
        return json(r.stdout()).path("url").asString();
    }

    static Page open(String url) {
        Page page = browser.newPage();
        page.navigate(url);
        return page;
    }

    static void awaitState(Page page, String state) {
        page.waitForSelector("#status[data-state=\"" + state + "\"]", new Page.WaitForSelectorOptions().setTimeout(60_000));
    }

    @Test
    void typingInTheSharedShellRunsCommandsUntilTheLinkIsRevoked() throws Exception {
        String url = share();
        assertThat(url).startsWith(daemon.url() + "/_shell/").contains("#token=");
        Page page = open(url);
        awaitState(page, "connected");
        assertThat(page.url()).as("the token leaves the address bar").doesNotContain("token");
        page.click("#term");
        page.keyboard().type("echo $((6*7))-$(id -u)\n");
        // the shell's answer, not the echo of what was typed
        page.waitForFunction("() => document.querySelector('.xterm-rows').textContent.includes('42-1000')", null,
                new Page.WaitForFunctionOptions().setTimeout(30_000));

        var revoke = BhattiProcess.cli(daemon.env, "share", "sh1", "--revoke");
        assertThat(revoke.exit()).as(revoke.toString()).isZero();
        awaitState(page, "closed");
        assertThat(page.textContent("#status")).contains("revoked");

        Page again = open(url);
        awaitState(again, "closed");
        assertThat(again.textContent("#status")).isEqualTo("unauthorized");
        again.close();
        page.close();
    }

    @Test
    void aNewLinkReplacesTheOldOneAndWrongTokensLearnNothing() throws Exception {
        String first = share();
        String second = share();
        Page old = open(first);
        awaitState(old, "closed");
        assertThat(old.textContent("#status")).isEqualTo("unauthorized");
        String id = second.substring(second.indexOf("/_shell/") + 8, second.indexOf('#'));
        Page wrong = open(daemon.url() + "/_shell/" + id + "#token=" + "0".repeat(64));
        awaitState(wrong, "closed");
        Page missing = open(daemon.url() + "/_shell/0123456789abcdef#token=" + second.substring(second.indexOf('=') + 1));
        awaitState(missing, "closed");
        assertThat(missing.textContent("#status")).as("a missing sandbox looks like a wrong token").isEqualTo("unauthorized");
        Page ok = open(second);
        awaitState(ok, "connected");
        for (Page p : List.of(old, wrong, missing, ok)) p.close();

        var page = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(daemon.url() + "/_shell/" + id)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(page.statusCode()).isEqualTo(200);
        assertThat(page.headers().firstValue("Content-Security-Policy").orElse("")).contains("frame-ancestors 'none'")
                .contains("script-src 'self' 'nonce-");
        assertThat(page.headers().firstValue("Referrer-Policy")).hasValue("no-referrer");
        assertThat(page.headers().firstValue("Cache-Control")).hasValue("no-store");
    }
}
