package dev.bhatti.sdk;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** What can never be right is refused before anything is sent, with a message naming the argument. */
class ValidationTest {
    /** Nothing listens here: a check that let an argument through would fail with ConnectionFailed instead. */
    static Bhatti bhatti;
    static Sandbox sb;

    @BeforeAll
    static void client() {
        bhatti = Bhatti.builder().url("http://127.0.0.1:9").token("k").connectTimeout(Duration.ofSeconds(1)).build();
        sb = new Sandbox(new Transport(new BhattiConfig("http://127.0.0.1:9", "k"), Duration.ofSeconds(1), Duration.ofSeconds(1)),
                new SandboxInfo("0123456789abcdef", "x", "running", "hot", "", 1, 512, "minimal", "", "", null, null, null, false, null,
                        null, null, null));
    }

    @AfterAll
    static void close() { bhatti.close(); }

    @Test
    void namesMustBeGiven() {
        assertThatThrownBy(() -> Create.named(null)).isInstanceOf(IllegalArgumentException.class).hasMessage("sandbox name must not be null");
        assertThatThrownBy(() -> Create.named("  ")).hasMessage("sandbox name must not be blank");
        assertThatThrownBy(() -> Create.named("a\nb")).hasMessageContaining("control characters").hasMessageContaining("\\u000a");
        assertThatThrownBy(() -> bhatti.sandboxes().get("")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> bhatti.snapshots().resume(null, "x")).hasMessageContaining("snapshot name");
        assertThatThrownBy(() -> bhatti.snapshots().resume("s", " ")).hasMessageContaining("new sandbox name");
        assertThatThrownBy(() -> bhatti.secrets().set("k", null)).hasMessageContaining("secret value");
        assertThatThrownBy(() -> bhatti.volumes().create("v", 1)).hasMessageContaining("sizeMb must be from 8");
        assertThatThrownBy(() -> sb.snapshot("")).hasMessageContaining("snapshot name");
    }

    @Test
    void guestPathsAreAbsolute() {
        assertThatThrownBy(() -> sb.files().write("relative.txt", "x")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("absolute");
        assertThatThrownBy(() -> sb.files().read(null)).hasMessageContaining("must not be null");
        assertThatThrownBy(() -> sb.files().list("/a\0b")).hasMessageContaining("NUL");
        assertThatThrownBy(() -> sb.files().write("/x", "y".getBytes(), 04755)).hasMessageContaining("mode must be from 0 to 511");
        assertThatThrownBy(() -> sb.files().upload(Path.of("/no/such/file"), "/x")).hasMessageContaining("no such local file");
        assertThatThrownBy(() -> Exec.of("ls").cwd("tmp")).hasMessageContaining("cwd");
    }

    @Test
    void commandsAreArgvsOfRealStrings() {
        assertThatThrownBy(() -> Exec.of()).hasMessageContaining("at least a program");
        assertThatThrownBy(() -> Exec.of(List.of())).hasMessageContaining("at least a program");
        assertThatThrownBy(() -> Exec.of("ls", null)).hasMessage("command argument 1 is null");
        assertThatThrownBy(() -> Exec.of("")).hasMessageContaining("program must not be empty");
        assertThatThrownBy(() -> sb.exec()).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Exec.of("ls").env("A=B", "c")).hasMessageContaining("'='");
        assertThatThrownBy(() -> Exec.of("ls").env("A", null)).hasMessageContaining("null value");
        assertThatThrownBy(() -> Exec.of("ls").timeout(Duration.ZERO)).hasMessageContaining("positive");
        assertThatThrownBy(() -> Exec.of("ls").timeout(Duration.ofDays(2))).hasMessageContaining("at most");
        assertThatThrownBy(() -> Exec.of("ls").user("Robert'); DROP")).hasMessageContaining("user name or a uid");
    }

    @Test
    void numbersAreInRange() {
        assertThatThrownBy(() -> Create.named("x").cpus(0)).hasMessageContaining("cpus");
        assertThatThrownBy(() -> Create.named("x").cpus(Double.NaN)).hasMessageContaining("cpus");
        assertThatThrownBy(() -> Create.named("x").memoryMb(-1)).hasMessageContaining("memoryMb");
        assertThatThrownBy(() -> sb.publish(0)).hasMessageContaining("port must be from 1 to 65535");
        assertThatThrownBy(() -> sb.publish(80, "Not_An_Alias")).hasMessageContaining("alias");
        assertThatThrownBy(() -> sb.killSession("s1", 65)).hasMessageContaining("signal");
        assertThatThrownBy(() -> sb.killSession("../x")).hasMessageContaining("session id");
        assertThatThrownBy(() -> ShellOptions.defaults().size(0, 80)).hasMessageContaining("rows");
        assertThatThrownBy(() -> Bhatti.builder().requestTimeout(Duration.ofSeconds(-1))).hasMessageContaining("requestTimeout");
    }

    @Test
    void requestBodiesAreTheApisSnakeCase() {
        assertThat(Create.named("a").image("minimal").cpus(2).memoryMb(512).keepHot(true).env("K", "V").volume("data", "/data", true).body())
                .containsEntry("name", "a").containsEntry("cpus", 2).containsEntry("memory_mb", 512).containsEntry("keep_hot", true)
                .containsEntry("env", Map.of("K", "V"))
                .containsEntry("volumes", List.of(Map.of("name", "data", "mount", "/data", "read_only", true)));
        assertThat(Create.named("a").cpus(0.5).body()).containsEntry("cpus", 0.5);
        assertThat(Exec.of("sleep", "1").timeout(Duration.ofMillis(1500)).stdin("in").body())
                .containsEntry("cmd", List.of("sleep", "1")).containsEntry("timeout_sec", 2).containsEntry("stdin", "in");
        assertThat(Create.unnamed().body()).isEmpty();
    }
}
