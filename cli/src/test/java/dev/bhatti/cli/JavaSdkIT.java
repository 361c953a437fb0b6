package dev.bhatti.cli;

import dev.bhatti.sdk.AuthenticationError;
import dev.bhatti.sdk.Bhatti;
import dev.bhatti.sdk.Conflict;
import dev.bhatti.sdk.ConnectionFailed;
import dev.bhatti.sdk.Create;
import dev.bhatti.sdk.Exec;
import dev.bhatti.sdk.ExecEvent;
import dev.bhatti.sdk.ExecResult;
import dev.bhatti.sdk.InvalidRequest;
import dev.bhatti.sdk.NotFound;
import dev.bhatti.sdk.RateLimited;
import dev.bhatti.sdk.Sandbox;
import dev.bhatti.sdk.Shell;
import dev.bhatti.sdk.ShellOptions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The Java SDK (sdk/java) against a real daemon with real VMs, as a program would use it: create, exec
 * buffered and streamed, files both ways (a 1 MB binary too), snapshot and resume, stop and start, a
 * terminal over WebSocket, the typed errors (404, 409, 429, 401, 400, no daemon), and the exec round trip
 * through the SDK next to the same call made with the JDK's HttpClient by hand (printed, never asserted).
 */
@ExtendWith(DaemonLogOnFailure.class)
class JavaSdkIT {

    @RegisterExtension
    static final DaemonUnderTest bhatti = new DaemonUnderTest("bhatti-javasdk-").logTail(60);

    static Bhatti client;
    static Sandbox sb;

    @BeforeAll
    static void connect() throws Exception {
        client = Bhatti.connect(bhatti.daemon().url(), bhatti.daemon().apiKey());
        sb = client.sandboxes().create(Create.named("jsdk").cpus(1).memoryMb(512));
    }

    @AfterAll
    static void close() {
        if (client != null) client.close();
    }

    @Test
    void execBufferedAndStreamed() {
        ExecResult r = sb.exec("sh", "-c", "echo out; echo err >&2; exit 3");
        assertThat(r).isEqualTo(new ExecResult(3, "out\n", "err\n", false, false));
        assertThat(r.ok()).isFalse();
        assertThat(sb.exec(Exec.of("cat").stdin("from stdin")).stdout()).isEqualTo("from stdin");
        assertThat(sb.exec(Exec.of("sh", "-c", "echo $A $PWD").env("A", "a").cwd("/tmp")).stdout()).isEqualTo("a /tmp\n");

        // streamed: output reaches the consumer as it is printed, the exit code in the result
        var chunks = new CopyOnWriteArrayList<String>();
        ExecResult streamed = sb.exec(Exec.of("sh", "-c", "for i in 1 2 3; do echo $i; sleep 0.3; done; echo bad >&2; exit 4")
                .onStdout(chunks::add));
        assertThat(String.join("", chunks)).isEqualTo("1\n2\n3\n");
        assertThat(chunks).as("three prints 0.3 s apart arrive as more than one event").hasSizeGreaterThan(1);
        assertThat(streamed).isEqualTo(new ExecResult(4, "", "bad\n", false, false));

        try (var events = sb.execStream(Exec.of("sh", "-c", "echo a; echo b >&2"))) {
            List<ExecEvent> all = events.toList();
            assertThat(all).contains(new ExecEvent.Stdout("a\n"), new ExecEvent.Stderr("b\n"));
            assertThat(all.getLast()).isEqualTo(new ExecEvent.Exit(0, false));
        }
        ExecResult slow = sb.exec(Exec.of("sleep", "30").timeout(Duration.ofSeconds(1)));
        assertThat(slow.timedOut()).isTrue();
    }

    @Test
    void filesRoundTripTextAndAMegabyteOfBinary(@org.junit.jupiter.api.io.TempDir Path local) throws Exception {
        sb.files().write("/workspace/a.txt", "hi \u00e9");
        assertThat(sb.files().readString("/workspace/a.txt")).isEqualTo("hi \u00e9");
        assertThat(sb.exec("cat", "/workspace/a.txt").stdout()).isEqualTo("hi \u00e9");

        byte[] blob = new byte[1024 * 1024 + 17];
        new Random(21).nextBytes(blob);
        sb.files().write("/workspace/blob.bin", blob, 0600);
        assertThat(sb.files().read("/workspace/blob.bin")).isEqualTo(blob);
        assertThat(sb.exec("stat", "-c", "%s %a", "/workspace/blob.bin").stdout()).isEqualTo(blob.length + " 600\n");
        try (InputStream in = sb.files().open("/workspace/blob.bin")) {
            assertThat(in.readAllBytes()).isEqualTo(blob);
        }
        Path down = local.resolve("down.bin");
        assertThat(sb.files().download("/workspace/blob.bin", down)).isEqualTo(blob.length);
        assertThat(Files.readAllBytes(down)).isEqualTo(blob);

        sb.files().write("/workspace/streamed.bin", new ByteArrayInputStream(blob));
        Path up = Files.write(local.resolve("up.bin"), "uploaded".getBytes());
        sb.files().upload(up, "/workspace/up.txt");
        assertThat(sb.exec("sh", "-c", "sha256sum < /workspace/streamed.bin; cat /workspace/up.txt").stdout())
                .isEqualTo(sb.exec("sh", "-c", "sha256sum < /workspace/blob.bin").stdout() + "uploaded");

        var listing = sb.files().list("/workspace");
        assertThat(listing.find("blob.bin")).hasValueSatisfying(e -> {
            assertThat(e.size()).isEqualTo(blob.length);
            assertThat(e.mode()).isEqualTo("0600");
            assertThat(e.isDir()).isFalse();
        });
        assertThat(sb.files().stat("/workspace").isDir()).isTrue();
        assertThat(sb.files().exists("/workspace/no-such-file")).isFalse();
        assertThatThrownBy(() -> sb.files().read("/workspace/no-such-file")).isInstanceOf(NotFound.class);
    }

    @Test
    void snapshotResumeStopAndStart() throws Exception {
        sb.exec("sh", "-c", "echo kept > /workspace/state");
        var snap = sb.snapshot("jsdk-pre");
        assertThat(snap.name()).isEqualTo("jsdk-pre");
        assertThat(client.snapshots().list()).extracting(s -> s.name()).contains("jsdk-pre");
        Sandbox copy = client.snapshots().resume("jsdk-pre", "jsdk-copy");
        try {
            assertThat(copy.name()).isEqualTo("jsdk-copy");
            assertThat(copy.exec("cat", "/workspace/state").stdout()).isEqualTo("kept\n");
            assertThat(copy.stop().status()).isEqualTo("stopped");
            assertThat(copy.info().thermal()).isEqualTo("cold");
            assertThat(copy.start().info().running()).isTrue();
            assertThat(copy.exec("cat", "/workspace/state").stdout()).isEqualTo("kept\n");
        } finally {
            copy.destroy();
            client.snapshots().delete("jsdk-pre");
        }
        assertThatThrownBy(copy::refresh).isInstanceOf(NotFound.class);
        assertThatThrownBy(() -> copy.exec("true")).isInstanceOf(NotFound.class);
        assertThatThrownBy(copy::shell).as("a refused WebSocket upgrade is typed too").isInstanceOf(NotFound.class);
        assertThatThrownBy(() -> client.snapshots().get("jsdk-pre")).isInstanceOf(NotFound.class);
    }

    @Test
    void aTerminalRoundTripResizesDetachesAndReattaches() throws Exception {
        String session;
        try (Shell shell = sb.shell(ShellOptions.defaults().fresh().size(30, 100))) {
            session = shell.sessionId();
            assertThat(session).matches("s[0-9]+");
            assertThat(sb.sessions()).anySatisfy(s -> {
                assertThat(s.sessionId()).isEqualTo(session);
                assertThat(s.tty()).isTrue();
                assertThat(s.attached()).isTrue();
            });
            shell.send("stty size; echo $((6*7))\n");
            assertThat(shell.readUntil("42", Duration.ofSeconds(30))).contains("30 100");
            shell.resize(40, 120);
            shell.send("stty size\n");
            shell.readUntil("40 120", Duration.ofSeconds(30));
            shell.send("export MARK=still-here\n");
        } // detaches: the shell keeps running
        try (Shell again = sb.shell(ShellOptions.defaults().session(session))) {
            again.send("echo $MARK-$((1+1))\n");
            again.readUntil("still-here-2", Duration.ofSeconds(30));
            again.send("exit 7\n");
            assertThat(again.awaitExit(Duration.ofSeconds(30))).hasValue(7);
        }
    }

    @Test
    void refusalsAreTypedErrors() throws Exception {
        assertThatThrownBy(() -> client.sandboxes().get("no-such-sandbox")).isInstanceOf(NotFound.class).hasMessageContaining("no-such-sandbox");
        // create is idempotent by name; a snapshot name is not
        assertThat(client.sandboxes().create(Create.named("jsdk").cpus(1).memoryMb(512)).id()).isEqualTo(sb.id());
        sb.snapshot("jsdk-taken");
        try {
            assertThatThrownBy(() -> sb.snapshot("jsdk-taken")).isInstanceOf(Conflict.class).satisfies(e -> assertThat(((Conflict) e).status()).isEqualTo(409));
        } finally {
            client.snapshots().delete("jsdk-taken");
        }
        assertThatThrownBy(() -> client.sandboxes().create(Create.named("-not-a-name"))).isInstanceOf(InvalidRequest.class);
        try (var wrongKey = Bhatti.connect(bhatti.daemon().url(), "bht_" + "0".repeat(64))) {
            assertThatThrownBy(() -> wrongKey.sandboxes().list()).isInstanceOf(AuthenticationError.class);
        }
        String limitedKey = bhatti.userKey("limited", "--max-sandboxes", "0");
        try (var quota = Bhatti.connect(bhatti.daemon().url(), limitedKey)) {
            assertThatThrownBy(() -> quota.sandboxes().create(Create.named("one-too-many"))).isInstanceOf(RateLimited.class);
            assertThat(quota.sandboxes().list()).isEmpty();
        }
        int closed;
        try (var s = new ServerSocket(0)) {
            closed = s.getLocalPort();
        }
        try (var nobody = Bhatti.connect("http://127.0.0.1:" + closed, "k")) {
            assertThatThrownBy(() -> nobody.sandboxes().list()).isInstanceOf(ConnectionFailed.class).hasMessageContaining("cannot reach");
        }
    }

    @Test
    void secretsPublishedPortsImagesAndVolumes() {
        assertThat(client.secrets().set("JSDK_KEY", "v1").name()).isEqualTo("JSDK_KEY");
        client.secrets().set("JSDK_KEY", "v2");
        assertThat(client.secrets().list()).extracting(s -> s.name()).contains("JSDK_KEY");
        assertThat(client.secrets().get("JSDK_KEY").updatedAt()).isNotNull();
        client.secrets().delete("JSDK_KEY");
        assertThatThrownBy(() -> client.secrets().get("JSDK_KEY")).isInstanceOf(NotFound.class);

        var published = sb.publish(8080);
        assertThat(published.port()).isEqualTo(8080);
        assertThat(published.alias()).startsWith("jsdk");
        assertThat(sb.published()).extracting(p -> p.port()).containsExactly(8080);
        sb.unpublish(8080);
        assertThat(sb.published()).isEmpty();

        // a forward reaches a server in the guest from the host
        assertThat(sb.exec("sh", "-c", "mkdir -p /tmp/w && echo forwarded > /tmp/w/index.html && busybox httpd -p 3000 -h /tmp/w").exitCode()).isZero();
        var forward = sb.forward(3000);
        assertThat(forward.guestPort()).isEqualTo(3000);
        assertThat(sb.forwards()).extracting(f -> f.hostPort()).containsExactly(forward.hostPort());
        try (var http = java.net.http.HttpClient.newHttpClient()) {
            var page = http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + forward.hostPort() + "/")).build(),
                    java.net.http.HttpResponse.BodyHandlers.ofString());
            assertThat(page.body()).isEqualTo("forwarded\n");
        } catch (Exception e) {
            throw new AssertionError(e);
        }
        sb.unforward(forward.hostPort());
        assertThat(sb.forwards()).isEmpty();
        assertThatThrownBy(() -> sb.forward(0)).isInstanceOf(IllegalArgumentException.class);

        // tiers are listed, and one can be got by name as create resolves it
        assertThat(client.images().list()).anySatisfy(i -> {
            assertThat(i.name()).isEqualTo("minimal");
            assertThat(i.source()).isEqualTo("tier");
            assertThat(i.sizeBytes()).isPositive();
        });
        assertThat(client.images().get("minimal").source()).isEqualTo("tier");
        assertThatThrownBy(() -> client.images().get("no-such-image")).isInstanceOf(NotFound.class);

        var volume = client.volumes().create("jsdk-vol", 16);
        assertThat(volume.sizeMb()).isEqualTo(16);
        assertThat(client.volumes().list()).extracting(v -> v.name()).contains("jsdk-vol");
        assertThat(client.volumes().get("jsdk-vol").attachedTo()).isEmpty();
        client.volumes().delete("jsdk-vol");
        assertThatThrownBy(() -> client.volumes().get("jsdk-vol")).isInstanceOf(NotFound.class);
    }

    /**
     * The exec round trip of {@code true} in a running sandbox: through the SDK, and as the same POST made
     * with the JDK's HttpClient by hand, alternating, on one connection each. Printed for the note.
     */
    @Test
    void execRoundTripThroughTheSdkAndByHand() throws Exception {
        var raw = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        var request = HttpRequest.newBuilder(URI.create(bhatti.daemon().url() + "/sandboxes/" + sb.id() + "/exec"))
                .header("Authorization", "Bearer " + bhatti.daemon().apiKey()).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"cmd\":[\"true\"]}")).build();
        for (int i = 0; i < 3; i++) { // warm both paths
            sb.exec("true");
            raw.send(request, HttpResponse.BodyHandlers.ofString());
        }
        var sdk = new ArrayList<Long>();
        var byHand = new ArrayList<Long>();
        for (int i = 0; i < 30; i++) {
            long t0 = System.nanoTime();
            assertThat(sb.exec("true").exitCode()).isZero();
            sdk.add(System.nanoTime() - t0);
            t0 = System.nanoTime();
            var r = raw.send(request, HttpResponse.BodyHandlers.ofString());
            byHand.add(System.nanoTime() - t0);
            assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        }
        raw.close();
        System.out.printf("JavaSdkIT exec round trip of `true` over 30 calls: SDK p50 %.1f ms p95 %.1f ms; raw HttpClient p50 %.1f ms p95 %.1f ms%n",
                percentile(sdk, 50), percentile(sdk, 95), percentile(byHand, 50), percentile(byHand, 95));
    }

    private static double percentile(List<Long> nanos, int p) {
        var sorted = nanos.stream().sorted().toList();
        int index = (int) Math.ceil(p / 100.0 * sorted.size()) - 1;
        return sorted.get(Math.max(0, index)) / 1e6;
    }
}
