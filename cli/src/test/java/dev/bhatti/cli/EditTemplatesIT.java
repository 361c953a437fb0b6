package dev.bhatti.cli;

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
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * {@code bhatti edit}, labels, {@code bhatti ports} and templates on real VMs, through the CLI and HTTP: keep-hot,
 * labels set, filtered and removed; a rename keeps the id, a forward and a published alias (both still serve);
 * a taken name is 409, a bad label 400; a template is saved, listed, used with overrides (visible in the guest),
 * refused with 404 for a missing image or secret, and deleted.
 */
@ExtendWith(DaemonLogOnFailure.class)
class EditTemplatesIT {

    @RegisterExtension
    static final DaemonUnderTest bhatti = new DaemonUnderTest("bhatti-edit-");

    static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

    static String get(String url) throws Exception {
        var r = HTTP.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(60)).build(), HttpResponse.BodyHandlers.ofString());
        return r.statusCode() + " " + r.body().strip();
    }

    /** A published URL ({@code http://ALIAS.localhost:PORT/}) through curl, which resolves *.localhost to loopback itself. */
    static String curl(String url) throws Exception {
        Process p = new ProcessBuilder("curl", "-sS", "-m", "60", "-o", "-", "-w", "\n%{http_code}", url).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8).strip();
        p.waitFor();
        int nl = out.lastIndexOf('\n');
        return out.substring(nl + 1) + " " + out.substring(0, Math.max(nl, 0)).strip();
    }

    static JsonNode json(BhattiProcess.Result r) { return DaemonUnderTest.json(r.stdout()); }

    static String names(JsonNode list) {
        var b = new StringBuilder();
        for (JsonNode s : list) b.append(b.isEmpty() ? "" : ",").append(s.path("name").asString());
        return b.toString();
    }

    @Test
    void editLabelsRenamePortsAndTemplates() throws Exception {
        long t0 = System.nanoTime();
        var created = json(bhatti.ok("create", "--name", "e1", "--memory", "256", "--label", "team=infra", "--label", "tier=web", "--json"));
        System.out.println("[edit] create: " + (System.nanoTime() - t0) / 1_000_000 + " ms");
        String id = created.path("id").asString();
        assertThat(created.path("labels").path("team").asString()).isEqualTo("infra");
        assertThat(bhatti.ok("inspect", "e1").stdout()).contains("team=infra").contains("tier=web");

        // keep-hot both ways
        assertThat(json(bhatti.ok("edit", "e1", "--keep-hot=true", "--json")).path("keep_hot").asBoolean()).isTrue();
        assertThat(json(bhatti.ok("edit", "e1", "--keep-hot", "false", "--json")).path("keep_hot").asBoolean()).isFalse();

        // labels: filter (AND), change, remove
        assertThat(names(json(bhatti.ok("list", "--label", "team=infra", "--json")))).isEqualTo("e1");
        assertThat(names(json(bhatti.ok("list", "--label", "team=infra", "--label", "tier=db", "--json")))).isEmpty();
        var edited = json(bhatti.ok("edit", "e1", "--label", "team=ops", "--unlabel", "tier", "--json"));
        assertThat(edited.path("labels").size()).as(edited.toString()).isEqualTo(1);
        assertThat(edited.path("labels").path("team").asString()).isEqualTo("ops");
        assertThat(names(json(bhatti.ok("list", "--label", "team=infra", "--json")))).isEmpty();
        assertThat(names(DaemonUnderTest.json(bhatti.call("GET", "/sandboxes?label=team=ops", null).body()))).isEqualTo("e1");

        // a bad label: 400 over HTTP, refused by the CLI with the server's reason, and nothing changed
        var bad = bhatti.call("PATCH", "/sandboxes/e1", "{\"labels\":{\"bad key\":\"v\"}}");
        assertThat(bad.statusCode()).as(bad.body()).isEqualTo(400);
        assertThat(bad.body()).contains("invalid label key");
        assertThat(bhatti.call("PATCH", "/sandboxes/e1", "{\"labels\":{\"ok\":\"bad value!\"}}").statusCode()).isEqualTo(400);
        assertThat(bhatti.call("GET", "/sandboxes?label=team", null).statusCode()).isEqualTo(400);
        assertThat(bhatti.refused("edit", "e1", "--label", "-x=1").stderr()).contains("invalid label key");
        assertThat(bhatti.refused("edit", "e1", "--label", "novalue").stderr()).contains("KEY=VALUE");
        assertThat(bhatti.inspect("e1").path("labels").size()).isEqualTo(1);

        // a server in the guest, reached through a forward and a published alias
        bhatti.exec("e1", "sh", "-c", "mkdir -p /tmp/w && echo hello-from-e1 > /tmp/w/index.html && busybox httpd -p 3000 -h /tmp/w");
        var forward = json(bhatti.ok("forward", "e1", "3000", "-d", "--json"));
        String forwardUrl = "http://" + forward.path("host_addr").asString() + "/";
        var published = json(bhatti.ok("publish", "e1", "-p", "3000", "--json"));
        String publishedUrl = published.path("url").asString();
        assertThat(publishedUrl).as(published.toString()).startsWith("http://");
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> assertThat(get(forwardUrl)).isEqualTo("200 hello-from-e1"));
        assertThat(curl(publishedUrl)).isEqualTo("200 hello-from-e1");

        // templates: save, list, inspect; a missing image is 404 at save
        bhatti.ok("template", "create", "small", "--memory", "256", "-e", "A=from-template", "-e", "B=kept", "--label", "from=template");
        assertThat(names(json(bhatti.ok("template", "list", "--json")))).isEqualTo("small");
        var small = json(bhatti.ok("template", "inspect", "small", "--json"));
        assertThat(small.path("spec").path("memory_mb").asInt()).isEqualTo(256);
        assertThat(small.path("spec").path("env").path("A").asString()).isEqualTo("from-template");
        assertThat(bhatti.ok("template", "inspect", "small").stdout()).contains("memory_mb:").contains("256");
        assertThat(bhatti.refused("template", "create", "bad", "--image", "no-such-image").stderr()).contains("image not found: no-such-image");
        assertThat(bhatti.call("POST", "/templates", "{\"name\":\"bad\",\"image\":\"no-such-image\"}").statusCode()).isEqualTo(404);

        // create from it with overrides: env merges by key, memory replaced, the template's label kept
        t0 = System.nanoTime();
        var e2 = json(bhatti.ok("create", "--name", "e2", "--template", "small", "--memory", "384", "-e", "A=override", "--json"));
        System.out.println("[edit] create from template: " + (System.nanoTime() - t0) / 1_000_000 + " ms");
        assertThat(e2.path("memory_mb").asInt()).isEqualTo(384);
        assertThat(e2.path("labels").path("from").asString()).isEqualTo("template");
        assertThat(bhatti.exec("e2", "sh", "-c", "echo $A $B").strip()).isEqualTo("override kept");

        // a rename to a taken name is 409, and changes nothing
        var taken = bhatti.call("PATCH", "/sandboxes/e1", "{\"name\":\"e2\"}");
        assertThat(taken.statusCode()).as(taken.body()).isEqualTo(409);
        assertThat(bhatti.refused("edit", "e1", "--name", "e2").stderr()).contains("exists already");
        assertThat(bhatti.inspect("e1").path("id").asString()).isEqualTo(id);

        // a rename keeps the id, the forward and the published alias: both still serve
        var renamed = json(bhatti.ok("edit", "e1", "--name", "web", "--json"));
        assertThat(renamed.path("id").asString()).isEqualTo(id);
        assertThat(renamed.path("name").asString()).isEqualTo("web");
        assertThat(bhatti.call("GET", "/sandboxes/e1", null).statusCode()).isEqualTo(404);
        assertThat(get(forwardUrl)).isEqualTo("200 hello-from-e1");
        assertThat(curl(publishedUrl)).isEqualTo("200 hello-from-e1");
        var ports = json(bhatti.ok("ports", "web", "--json"));
        assertThat(ports.path("forwards").size()).as(ports.toString()).isEqualTo(1);
        assertThat(ports.path("forwards").get(0).path("guest_port").asInt()).isEqualTo(3000);
        assertThat(ports.path("published").size()).isEqualTo(1);
        assertThat(ports.path("published").get(0).path("url").asString()).isEqualTo(publishedUrl);
        assertThat(bhatti.ok("ports", "web").stdout()).contains("forward").contains("published").contains(publishedUrl);

        // a secret the template names that is gone by the time it is used: 404 naming it, no sandbox
        Path value = Files.writeString(bhatti.dataDir().resolve("secret-value"), "s3cret");
        var set = BhattiProcess.cliWithInput(bhatti.daemon().env, value, "secret", "set", "EDIT_TOKEN");
        assertThat(set.exit()).as(set.toString()).isZero();
        bhatti.ok("template", "create", "with-secret", "--memory", "256", "--secret", "EDIT_TOKEN");
        bhatti.ok("secret", "delete", "-y", "EDIT_TOKEN");
        assertThat(bhatti.refused("create", "--name", "e3", "--template", "with-secret").stderr()).contains("secret not found: EDIT_TOKEN");
        var missing = bhatti.call("POST", "/sandboxes", "{\"name\":\"e3\",\"template\":\"with-secret\"}");
        assertThat(missing.statusCode()).as(missing.body()).isEqualTo(404);
        assertThat(missing.body()).contains("EDIT_TOKEN");
        assertThat(bhatti.call("GET", "/sandboxes/e3", null).statusCode()).isEqualTo(404);
        assertThat(bhatti.refused("template", "create", "with-secret2", "--secret", "EDIT_TOKEN").stderr()).contains("secret not found: EDIT_TOKEN");

        // delete
        bhatti.ok("template", "delete", "-y", "small");
        bhatti.ok("template", "delete", "-y", "with-secret");
        assertThat(json(bhatti.ok("template", "list", "--json")).size()).isZero();
        assertThat(bhatti.call("GET", "/templates/small", null).statusCode()).isEqualTo(404);
        assertThat(bhatti.refused("create", "--name", "e4", "--template", "small").stderr()).contains("template not found: small");
    }
}
