package dev.bhatti.cli;

import io.modelcontextprotocol.client.McpClient;
import io.modelcontextprotocol.client.McpSyncClient;
import io.modelcontextprotocol.client.transport.ServerParameters;
import io.modelcontextprotocol.client.transport.StdioClientTransport;
import io.modelcontextprotocol.json.McpJsonDefaults;
import io.modelcontextprotocol.spec.McpError;
import io.modelcontextprotocol.spec.McpSchema;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * {@code bin/bhatti mcp} driven by a real MCP client, the official Java SDK's synchronous client over stdio,
 * against a daemon with real VMs: initialize, the tool list, a sandbox's life through tools (exec with big
 * output and progress, files, snapshot, stop/start, publish, destroy), arguments a model got wrong, the daemon's
 * refusals (404, 409, 429) as tool errors, and what a tool call costs next to the same call over raw HTTP.
 * The steps share one sandbox, so they run in order.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@ExtendWith(DaemonLogOnFailure.class)
class McpIT {
    private static final Path LAUNCHER = Path.of("").toAbsolutePath().getParent().resolve("bin/bhatti");
    private static final String SB = "mcp-dev";

    @RegisterExtension
    static final DaemonUnderTest bhatti = new DaemonUnderTest("bhatti-mcp-").logTail(60);

    static McpSyncClient mcp;
    static final List<String> serverStderr = new CopyOnWriteArrayList<>();
    static final List<McpSchema.ProgressNotification> progress = new CopyOnWriteArrayList<>();

    @BeforeAll
    static void connect() {
        mcp = client(bhatti.daemon().url(), apiKey(), serverStderr);
    }

    @AfterAll
    static void disconnect() {
        if (mcp != null) mcp.closeGracefully();
    }

    private static String apiKey() {
        try {
            return bhatti.daemon().apiKey();
        } catch (java.io.IOException e) {
            throw new AssertionError(e);
        }
    }

    /** An MCP client that starts {@code bin/bhatti mcp} with this URL and key, as an IDE would. */
    private static McpSyncClient client(String url, String key, List<String> stderr) {
        var params = ServerParameters.builder(LAUNCHER.toString()).args("mcp")
                .env(Map.of("BHATTI_URL", url, "BHATTI_TOKEN", key, "BHATTI_CONFIG", "/nonexistent")).build();
        var transport = new StdioClientTransport(params, McpJsonDefaults.getMapper());
        transport.setStdErrorHandler(stderr::add);
        var client = McpClient.sync(transport).requestTimeout(Duration.ofMinutes(3)).initializationTimeout(Duration.ofMinutes(1))
                .clientInfo(new McpSchema.Implementation("bhatti-mcp-it", "1")).progressConsumer(progress::add).build();
        client.initialize();
        return client;
    }

    private static McpSchema.CallToolResult call(String tool, Map<String, Object> args) {
        return mcp.callTool(new McpSchema.CallToolRequest(tool, args));
    }

    private static String text(McpSchema.CallToolResult r) {
        return r.content().stream().map(c -> ((McpSchema.TextContent) c).text()).reduce("", String::concat);
    }

    /** A call that must succeed; its text. */
    private static String ok(String tool, Map<String, Object> args) {
        var r = call(tool, args);
        assertThat(r.isError()).as(tool + " " + args + ": " + text(r) + "\nserver stderr: " + serverStderr).isFalse();
        return text(r);
    }

    /** A call that must come back as a tool error; its text. */
    private static String toolError(String tool, Map<String, Object> args) {
        var r = call(tool, args);
        assertThat(r.isError()).as(tool + " " + args + ": " + text(r)).isTrue();
        return text(r);
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> structured(McpSchema.CallToolResult r) { return (Map<String, Object>) r.structuredContent(); }

    @Test @Order(1)
    void initializeAndTheTwelveToolsWithTheirSchemas() {
        var init = mcp.getCurrentInitializationResult();
        System.out.println("MCP: protocol " + init.protocolVersion() + ", server " + init.serverInfo());
        assertThat(init.serverInfo().name()).isEqualTo("bhatti");
        assertThat(init.instructions()).contains("create").contains("exec");
        assertThat(init.capabilities().tools()).isNotNull();

        var tools = mcp.listTools().tools();
        assertThat(tools).extracting(McpSchema.Tool::name).containsExactlyInAnyOrder("create", "list", "exec", "read_file", "write_file",
                "list_files", "snapshot", "resume", "stop", "start", "publish", "destroy");
        for (var t : tools) {
            assertThat(t.description()).as(t.name()).isNotBlank();
            assertThat(t.inputSchema()).as(t.name()).containsEntry("type", "object").containsKey("properties");
        }
        var exec = tools.stream().filter(t -> t.name().equals("exec")).findFirst().orElseThrow();
        assertThat(exec.inputSchema().get("required")).isEqualTo(List.of("sandbox", "command"));
        assertThat(((Map<?, ?>) exec.inputSchema().get("properties")).keySet().stream().map(Object::toString).toList()).contains("timeout", "cwd", "env", "stdin", "background");
    }

    @Test @Order(2)
    void createASandboxAndRunCommandsInIt() {
        var created = call("create", Map.of("name", SB, "cpus", 1, "memory_mb", 512));
        assertThat(created.isError()).as(text(created)).isFalse();
        assertThat(text(created)).startsWith("Created sandbox " + SB + ": running");
        assertThat(structured(created)).containsEntry("name", SB).containsEntry("status", "running");
        // idempotent by name, as the daemon is
        assertThat(ok("create", Map.of("name", SB))).startsWith("Already existed, unchanged: sandbox " + SB);
        assertThat(ok("list", Map.of())).contains("sandbox " + SB + ": running");

        var r = call("exec", Map.of("sandbox", SB, "command", "echo hello from $(uname -s); echo oops >&2; exit 3"));
        assertThat(r.isError()).as(text(r)).isFalse();
        assertThat(text(r)).startsWith("exit code 3 after ").contains("--- stdout (17 bytes) ---\nhello from Linux\n")
                .contains("--- stderr (5 bytes) ---\noops\n");
        assertThat(structured(r)).containsEntry("exit_code", 3).containsEntry("stdout", "hello from Linux\n").containsEntry("stderr", "oops\n");

        // cwd, env and stdin reach the command
        String piped = ok("exec", Map.of("sandbox", SB, "command", "pwd; echo $GREETING; cat", "cwd", "/tmp",
                "env", Map.of("GREETING", "hi"), "stdin", "from stdin"));
        assertThat(piped).contains("/tmp\nhi\nfrom stdin");
    }

    @Test @Order(3)
    void bigOutputIsCutWithAMarkerSayingHowMuch() {
        var r = call("exec", Map.of("sandbox", SB, "command", "head -c 300000 /dev/zero | tr '\\0' x; echo; echo the end"));
        assertThat(r.isError()).isFalse();
        var s = structured(r);
        long total = ((Number) s.get("stdout_bytes")).longValue();
        assertThat(total).isEqualTo(300_009);
        assertThat(((Number) s.get("stdout_cut_bytes")).longValue()).isEqualTo(total - 64 * 1024);
        assertThat((String) s.get("stdout")).startsWith("xxxx").endsWith("x\nthe end\n")
                .contains("[... " + (total - 64 * 1024) + " bytes of stdout cut here (" + total + " bytes in all");
        assertThat(text(r)).contains("--- stdout (300009 bytes, " + (total - 64 * 1024) + " cut) ---");
        assertThat(text(r).length()).isLessThan(70_000);
    }

    @Test @Order(4)
    void aSlowCommandReportsProgressAndATimeoutKillsIt() {
        progress.clear();
        var request = McpSchema.CallToolRequest.builder().name("exec").progressToken("slow-1")
                .arguments(Map.of("sandbox", SB, "command", "for i in 1 2 3 4; do echo step $i; sleep 1; done")).build();
        var r = mcp.callTool(request);
        assertThat(text(r)).startsWith("exit code 0").contains("step 4");
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(progress).hasSizeGreaterThanOrEqualTo(2));
        assertThat(progress).allSatisfy(p -> assertThat(p.progressToken()).isEqualTo("slow-1"));
        assertThat(progress).anySatisfy(p -> assertThat(p.message()).contains("last line: step"));
        var values = progress.stream().map(McpSchema.ProgressNotification::progress).toList();
        assertThat(values).isSorted().doesNotHaveDuplicates();
        System.out.println("MCP progress for a 4 s exec: " + progress.size() + " notifications: "
                + progress.stream().map(McpSchema.ProgressNotification::message).toList());

        var timedOut = call("exec", Map.of("sandbox", SB, "command", "echo started; sleep 60", "timeout", 2));
        assertThat(timedOut.isError()).isFalse();
        assertThat(text(timedOut)).startsWith("timed out and was killed").contains("started");
        assertThat(structured(timedOut)).containsEntry("timed_out", true);
    }

    @Test @Order(5)
    void filesRoundTripThroughWriteReadAndList() {
        String content = "line 1: naïve café ✓\nline 2\nline 3\n";
        assertThat(ok("write_file", Map.of("sandbox", SB, "path", "/workspace/notes/a.txt", "content", content)))
                .startsWith("Wrote " + content.getBytes(StandardCharsets.UTF_8).length + " bytes to /workspace/notes/a.txt.");
        assertThat(ok("read_file", Map.of("sandbox", SB, "path", "notes/a.txt"))).isEqualTo(content);
        assertThat(ok("read_file", Map.of("sandbox", SB, "path", "/workspace/notes/a.txt", "offset", 2, "limit", 1))).isEqualTo("line 2\n");
        String cut = ok("read_file", Map.of("sandbox", SB, "path", "/workspace/notes/a.txt", "max_bytes", 6));
        assertThat(cut).startsWith("line 1\n[cut at max_bytes=6: /workspace/notes/a.txt has " + content.getBytes(StandardCharsets.UTF_8).length);

        byte[] binary = {0, 1, 2, (byte) 0xff, 10};
        ok("write_file", Map.of("sandbox", SB, "path", "/workspace/notes/b.bin", "content", Base64.getEncoder().encodeToString(binary),
                "encoding", "base64", "mode", "0600"));
        assertThat(ok("read_file", Map.of("sandbox", SB, "path", "/workspace/notes/b.bin")))
                .isEqualTo("[/workspace/notes/b.bin is binary (5 bytes); 5 bytes follow, base64-encoded]\n" + Base64.getEncoder().encodeToString(binary));
        ok("write_file", Map.of("sandbox", SB, "path", "/workspace/notes/empty", "content", ""));

        String listing = ok("list_files", Map.of("sandbox", SB, "path", "/workspace/notes"));
        assertThat(listing).startsWith("/workspace/notes: 3 entries").containsPattern("- 0?644 \\d+ \\S+ a\\.txt")
                .containsPattern("- 0?600 5 \\S+ b\\.bin").contains(" empty");
        assertThat(ok("list_files", Map.of("sandbox", SB))).contains("d ").contains(" notes");
        // what exec sees is what the file tools wrote
        assertThat(ok("exec", Map.of("sandbox", SB, "command", "cat /workspace/notes/a.txt"))).contains(content);
    }

    @Test @Order(6)
    void argumentsAModelGotWrongAreToolErrorsAndTheServerKeepsServing() {
        assertThat(toolError("exec", Map.of("sandbox", SB)))
                .contains("missing required argument 'command'").contains("exec takes: sandbox (required), command (required)");
        assertThat(toolError("exec", Map.of("sandbox", SB, "command", "true", "timeout", "soon")))
                .contains("argument 'timeout' must be an integer, got a string (\"soon\")");
        assertThat(toolError("read_file", Map.of("sandbox", List.of("a"), "path", 7)))
                .contains("argument 'sandbox' must be a string, got an array").contains("argument 'path' must be a string, got a number (7)");
        assertThat(toolError("publish", Map.of("sandbox", SB, "port", 70_000))).contains("argument 'port' must be between 1 and 65535");
        assertThat(toolError("write_file", Map.of("sandbox", SB, "path", "/tmp/x", "content", "%%%", "encoding", "base64")))
                .contains("content is not valid base64");
        // an unknown tool is a protocol error (the MCP specification's choice), with its name
        assertThatThrownBy(() -> call("make_coffee", Map.of())).isInstanceOf(McpError.class).hasMessageContaining("Unknown tool")
                .satisfies(e -> assertThat(((McpError) e).getJsonRpcError().data().toString()).contains("make_coffee"));
        // and the next call works
        assertThat(ok("exec", Map.of("sandbox", SB, "command", "echo still here"))).contains("still here");
    }

    @Test @Order(7)
    void theDaemonsRefusalsAreToolErrorsWithItsMessageAndANextStep() throws Exception {
        assertThat(toolError("exec", Map.of("sandbox", "no-such-sandbox", "command", "true")))
                .startsWith("Not found (404): sandbox not found: no-such-sandbox").contains("Call list");
        assertThat(toolError("write_file", Map.of("sandbox", SB, "path", "/workspace/x", "content", "x", "mode", "9999")))
                .startsWith("The daemon refused the request (400): mode must be octal");

        // quota: a second server, started with another user's key, is that user's: it sees none of the admin's
        // sandboxes, and its create is refused with 429
        String limitedKey = bhatti.userKey("limited", "--max-sandboxes", "0");
        var limited = client(bhatti.daemon().url(), limitedKey, new CopyOnWriteArrayList<>());
        try {
            var list = limited.callTool(new McpSchema.CallToolRequest("list", Map.of()));
            assertThat(text(list)).startsWith("No sandboxes yet");
            var create = limited.callTool(new McpSchema.CallToolRequest("create", Map.of("name", "over")));
            assertThat(create.isError()).isTrue();
            assertThat(text(create)).startsWith("Too many requests or over quota (429): ").contains("destroy sandboxes");
            var other = limited.callTool(new McpSchema.CallToolRequest("exec", Map.of("sandbox", SB, "command", "true")));
            assertThat(text(other)).startsWith("Not found (404)");
        } finally {
            limited.closeGracefully();
        }
    }

    @Test @Order(8)
    void snapshotResumeStopStartAndPublish() {
        ok("exec", Map.of("sandbox", SB, "command", "echo before > /workspace/moment"));
        var snap = call("snapshot", Map.of("sandbox", SB, "name", "mcp-snap"));
        assertThat(snap.isError()).as(text(snap)).isFalse();
        assertThat(text(snap)).startsWith("Snapshot mcp-snap taken of " + SB);
        assertThat(toolError("snapshot", Map.of("sandbox", SB, "name", "mcp-snap"))).startsWith("Conflict (409): ").contains("choose another");

        assertThat(ok("resume", Map.of("snapshot", "mcp-snap", "name", "mcp-copy"))).startsWith("Resumed snapshot mcp-snap as sandbox mcp-copy: running");
        assertThat(ok("read_file", Map.of("sandbox", "mcp-copy", "path", "/workspace/moment"))).isEqualTo("before\n");
        assertThat(ok("destroy", Map.of("sandbox", "mcp-copy"))).startsWith("Destroyed sandbox mcp-copy.");

        var stopped = call("stop", Map.of("sandbox", SB));
        assertThat(stopped.isError()).as(text(stopped)).isFalse();
        assertThat(structured(stopped)).containsEntry("status", "stopped");
        var started = call("start", Map.of("sandbox", SB));
        assertThat(started.isError()).as(text(started)).isFalse();
        assertThat(structured(started)).containsEntry("status", "running");
        assertThat(ok("exec", Map.of("sandbox", SB, "command", "cat /workspace/moment"))).contains("before");

        String published = ok("publish", Map.of("sandbox", SB, "port", 8000, "alias", "mcp-web"));
        assertThat(published).startsWith("Published: port 8000 of " + SB);
        assertThat(ok("publish", Map.of("sandbox", SB, "port", 8000, "alias", "mcp-web"))).startsWith("Already published: port 8000");
    }

    @Test @Order(9)
    void toolCallOverheadNextToRawHttp() throws Exception {
        // MCP and raw HTTP calls alternate, so that both see the same load on the host (the guest's exec dominates)
        var http = HttpClient.newHttpClient();
        var exec = HttpRequest.newBuilder(URI.create(bhatti.daemon().url() + "/sandboxes/" + SB + "/exec"))
                .header("Authorization", "Bearer " + apiKey()).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"cmd\":[\"/bin/sh\",\"-c\",\"true\"]}")).build();
        var list = HttpRequest.newBuilder(URI.create(bhatti.daemon().url() + "/sandboxes")).header("Authorization", "Bearer " + apiKey()).build();
        int n = 30;
        var mcpExec = new ArrayList<Long>();
        var rawExec = new ArrayList<Long>();
        var mcpList = new ArrayList<Long>();
        var rawList = new ArrayList<Long>();
        for (int i = 0; i < n + 3; i++) {
            boolean warm = i >= 3; // the first rounds warm up both sides
            long t = System.nanoTime();
            assertThat(text(call("exec", Map.of("sandbox", SB, "command", "true")))).startsWith("exit code 0");
            if (warm) mcpExec.add(System.nanoTime() - t);
            t = System.nanoTime();
            assertThat(http.send(exec, HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(200);
            if (warm) rawExec.add(System.nanoTime() - t);
            t = System.nanoTime();
            assertThat(call("list", Map.of()).isError()).isFalse();
            if (warm) mcpList.add(System.nanoTime() - t);
            t = System.nanoTime();
            assertThat(http.send(list, HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(200);
            if (warm) rawList.add(System.nanoTime() - t);
        }
        System.out.printf("MCP overhead, %d calls each, interleaved:%n"
                        + "  exec `true`: MCP tool call p50 %.1f ms, p95 %.1f ms; raw HTTP (buffered, keep-alive) p50 %.1f ms, p95 %.1f ms%n"
                        + "  list:        MCP tool call p50 %.1f ms, p95 %.1f ms; raw HTTP GET /sandboxes p50 %.1f ms, p95 %.1f ms%n",
                n, pct(mcpExec, 50), pct(mcpExec, 95), pct(rawExec, 50), pct(rawExec, 95),
                pct(mcpList, 50), pct(mcpList, 95), pct(rawList, 50), pct(rawList, 95));
    }

    private static double pct(List<Long> nanos, int p) {
        var sorted = new ArrayList<>(nanos);
        Collections.sort(sorted);
        return sorted.get(Math.min(sorted.size() - 1, (int) Math.ceil(p / 100.0 * sorted.size()) - 1)) / 1e6;
    }

    @Test @Order(10)
    void destroyEndsTheSandbox() {
        assertThat(ok("destroy", Map.of("sandbox", SB))).startsWith("Destroyed sandbox " + SB + ".");
        assertThat(ok("list", Map.of())).doesNotContain(SB);
        assertThat(toolError("destroy", Map.of("sandbox", SB))).startsWith("Not found (404)");
        assertThat(serverStderr).as("the server's stderr").noneMatch(l -> l.contains("Exception"));
    }

    @Test @Order(11)
    void stdoutCarriesOnlyProtocolMessagesAndTheServerAnswersWhatItReadBeforeItsInputEnded() throws Exception {
        var pb = new ProcessBuilder(LAUNCHER.toString(), "mcp").redirectError(ProcessBuilder.Redirect.DISCARD);
        pb.environment().putAll(Map.of("BHATTI_URL", bhatti.daemon().url(), "BHATTI_TOKEN", apiKey(), "BHATTI_CONFIG", "/nonexistent"));
        Process p = pb.start();
        try (var in = p.outputWriter(StandardCharsets.UTF_8); var out = p.inputReader(StandardCharsets.UTF_8)) {
            for (String m : List.of(
                    "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{\"protocolVersion\":\"2025-11-25\","
                            + "\"capabilities\":{},\"clientInfo\":{\"name\":\"raw\",\"version\":\"0\"}}}",
                    "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}",
                    "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/list\"}",
                    "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/call\",\"params\":{\"name\":\"list\",\"arguments\":{}}}")) {
                in.write(m + "\n");
                in.flush();
            }
            in.close(); // at once, as `bhatti mcp < calls.jsonl` does: what was asked is still answered
            var ids = new ArrayList<Integer>();
            for (String line = out.readLine(); line != null; line = out.readLine()) {
                var msg = DaemonUnderTest.json(line); // every line on stdout is one JSON-RPC message
                assertThat(msg.path("jsonrpc").asString()).as(line).isEqualTo("2.0");
                ids.add(msg.path("id").asInt());
            }
            assertThat(ids).containsExactly(1, 2, 3);
            assertThat(p.waitFor(30, java.util.concurrent.TimeUnit.SECONDS)).as("the server ends with its input").isTrue();
        } finally {
            p.destroyForcibly();
        }
        assertThat(p.exitValue()).isZero();
    }
}
