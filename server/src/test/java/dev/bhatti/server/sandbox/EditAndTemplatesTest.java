package dev.bhatti.server.sandbox;

import dev.bhatti.server.error.DomainException;
import dev.bhatti.server.store.UserRecord;
import dev.bhatti.server.testing.Services;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Editing a sandbox (rename, labels, keep_hot) and templates (validation, merging, missing image or secret). */
class EditAndTemplatesTest {
    @TempDir Path dir;
    Services services;
    UserRecord alice;

    @BeforeEach
    void setUp() {
        services = new Services(dir);
        alice = services.user("alice", 3);
    }

    @AfterEach
    void tearDown() { services.close(); }

    static SandboxService.CreateRequest spec(String image, Double cpus, Map<String, String> env, List<String> secrets, Map<String, String> labels) {
        return new SandboxService.CreateRequest(null, cpus, null, image, env, null, null, null, secrets, null, null, null, null, null, labels, null);
    }

    static SandboxService.CreateRequest using(String name, String template, Double cpus, Map<String, String> env) {
        return new SandboxService.CreateRequest(name, cpus, null, null, env, null, null, null, null, null, null, null, null, null, null, template);
    }

    @Test
    void aRenameKeepsTheIdAndATakenNameIsAConflictThatChangesNothing() {
        var dev = services.sandboxes.create(alice, Services.named("dev")).sandbox();
        services.sandboxes.create(alice, Services.named("other"));
        var renamed = services.sandboxes.edit(alice, "dev", null, null, "web");
        assertThat(renamed.id()).isEqualTo(dev.id());
        assertThat(renamed.name()).isEqualTo("web");
        assertThat(services.sandboxes.get(alice, "web").id()).isEqualTo(dev.id());
        assertThatThrownBy(() -> services.sandboxes.get(alice, "dev")).isInstanceOf(DomainException.NotFound.class);
        assertThatThrownBy(() -> services.sandboxes.edit(alice, "web", null, Map.of("team", "infra"), "other"))
                .isInstanceOf(DomainException.Conflict.class).hasMessageContaining("other");
        // the refused rename came first: the edit's labels did not land either
        assertThat(services.sandboxes.labels(services.sandboxes.get(alice, "web"))).isEmpty();
        assertThatThrownBy(() -> services.sandboxes.edit(alice, "web", null, null, "bad name"))
                .isInstanceOf(DomainException.Invalid.class);
    }

    @Test
    void labelsAreSetReplacedAndRemovedAndABadOneChangesNothing() {
        var s = services.sandboxes.create(alice, new SandboxService.CreateRequest("dev", null, null, null, null, null, null, null, null, null,
                null, null, null, null, Map.of("team", "infra"), null)).sandbox();
        assertThat(services.sandboxes.labels(s)).containsExactly(Map.entry("team", "infra"));
        var changes = new HashMap<String, String>();
        changes.put("team", null);
        changes.put("example.com/tier", "gold");
        changes.put("env", "");
        services.sandboxes.edit(alice, "dev", true, changes, null);
        assertThat(services.sandboxes.labels(s)).containsExactly(Map.entry("env", ""), Map.entry("example.com/tier", "gold"));
        assertThat(services.sandboxes.get(alice, "dev").keepHot()).isTrue();
        for (String badKey : List.of("", "-x", "a b", "x".repeat(64), "Upper.Case/x", "a=b", "/x")) {
            assertThatThrownBy(() -> services.sandboxes.edit(alice, "dev", null, Map.of(badKey, "v"), null))
                    .as(badKey).isInstanceOf(DomainException.Invalid.class);
        }
        assertThatThrownBy(() -> services.sandboxes.edit(alice, "dev", null, Map.of("ok", "has space"), null))
                .isInstanceOf(DomainException.Invalid.class).hasMessageContaining("ok");
        assertThat(services.sandboxes.labels(s)).hasSize(2);
        assertThatThrownBy(() -> Labels.selector("team")).isInstanceOf(DomainException.Invalid.class).hasMessageContaining("key=value");
        assertThat(Labels.selector("team=infra")).isEqualTo(Map.entry("team", "infra"));
        assertThatThrownBy(() -> services.sandboxes.create(alice, new SandboxService.CreateRequest("x", null, null, null, null, null, null, null,
                null, null, null, null, null, null, Map.of("bad key", "v"), null))).isInstanceOf(DomainException.Invalid.class);
        assertThat(services.store.sandboxes(alice.id())).hasSize(1);
    }

    @Test
    void theRequestOverridesTheTemplateAndEnvAndLabelsMergeByKey() {
        var t = spec("minimal", 2.0, Map.of("A", "1", "B", "2"), List.of("TOKEN"), Map.of("team", "infra"));
        var req = new SandboxService.CreateRequest("dev", 1.0, 256, null, Map.of("B", "3"), null, null, null, null, null, null, null, null,
                null, Map.of("env", "prod"), "t");
        var merged = Templates.merge(t, req);
        assertThat(merged.name()).isEqualTo("dev");
        assertThat(merged.cpus()).isEqualTo(1.0);
        assertThat(merged.memoryMb()).isEqualTo(256);
        assertThat(merged.image()).isEqualTo("minimal");
        assertThat(merged.env()).containsExactlyInAnyOrderEntriesOf(Map.of("A", "1", "B", "3"));
        assertThat(merged.secrets()).containsExactly("TOKEN");
        assertThat(merged.labels()).containsExactlyInAnyOrderEntriesOf(Map.of("team", "infra", "env", "prod"));
        assertThat(merged.template()).isNull();
    }

    @Test
    void aTemplateIsSavedListedUsedAndDeleted() {
        services.secrets.set(alice, "TOKEN", "s3cret");
        var templates = services.sandboxes.templates();
        templates.create(alice, "small", spec("minimal", 2.0, Map.of("A", "1"), List.of("TOKEN"), Map.of("team", "infra")));
        assertThat(templates.list(alice)).extracting(Templates.Template::name).containsExactly("small");
        assertThat(templates.get(alice, "small").spec().cpus()).isEqualTo(2.0);
        assertThatThrownBy(() -> templates.create(alice, "small", spec(null, null, null, null, null))).isInstanceOf(DomainException.Conflict.class);

        var s = services.sandboxes.create(alice, using("dev", "small", 1.0, Map.of("B", "2"))).sandbox();
        assertThat(s.cpus()).isEqualTo(1);
        assertThat(services.sandboxes.labels(s)).containsEntry("team", "infra");
        assertThat(services.store.sandboxSecrets(s.id())).containsExactly("TOKEN");
        var env = services.engine.guestFile(s.id(), BootConfig.ENVIRON).orElseThrow();
        assertThat(env).contains("A=1").contains("B=2");

        templates.delete(alice, "small");
        assertThat(templates.list(alice)).isEmpty();
        assertThatThrownBy(() -> services.sandboxes.create(alice, using("x", "small", null, null)))
                .isInstanceOf(DomainException.NotFound.class).hasMessageContaining("template not found: small");
        assertThatThrownBy(() -> templates.delete(alice, "small")).isInstanceOf(DomainException.NotFound.class);
    }

    @Test
    void aMissingImageOrSecretIsNamedWhenSavedAndWhenUsed() {
        var templates = services.sandboxes.templates();
        assertThatThrownBy(() -> templates.create(alice, "t", spec("nosuch", null, null, null, null)))
                .isInstanceOf(DomainException.NotFound.class).hasMessageContaining("image not found: nosuch");
        assertThatThrownBy(() -> templates.create(alice, "t", spec(null, null, null, List.of("NOPE"), null)))
                .isInstanceOf(DomainException.NotFound.class).hasMessageContaining("secret not found: NOPE");
        assertThatThrownBy(() -> templates.create(alice, "bad name", spec(null, null, null, null, null))).isInstanceOf(DomainException.Invalid.class);
        assertThatThrownBy(() -> templates.create(alice, "t", spec(null, 0.5, null, null, null))).isInstanceOf(DomainException.Invalid.class);
        assertThatThrownBy(() -> templates.create(alice, "t", spec(null, null, null, null, Map.of("-bad", "v")))).isInstanceOf(DomainException.Invalid.class);
        assertThat(templates.list(alice)).isEmpty();

        services.secrets.set(alice, "TOKEN", "s3cret");
        templates.create(alice, "t", spec(null, null, null, List.of("TOKEN"), null));
        services.secrets.delete(alice, "TOKEN");
        assertThatThrownBy(() -> services.sandboxes.create(alice, using("dev", "t", null, null)))
                .isInstanceOf(DomainException.NotFound.class).hasMessageContaining("secret not found: TOKEN");
        assertThat(services.store.sandboxes(alice.id())).isEmpty();
    }

    @Test
    void templatesAreEachUsersOwn() {
        var bob = services.user("bob", 1);
        services.sandboxes.templates().create(alice, "t", spec(null, 2.0, null, null, null));
        assertThat(services.sandboxes.templates().list(bob)).isEmpty();
        assertThatThrownBy(() -> services.sandboxes.templates().get(bob, "t")).isInstanceOf(DomainException.NotFound.class);
    }
}
