package dev.bhatti.bench;

import dev.bhatti.sdk.Bhatti;
import dev.bhatti.sdk.Sandbox;
import io.modelcontextprotocol.client.McpClient;
import io.modelcontextprotocol.client.McpSyncClient;
import io.modelcontextprotocol.client.transport.ServerParameters;
import io.modelcontextprotocol.client.transport.StdioClientTransport;
import io.modelcontextprotocol.json.McpJsonDefaults;
import io.modelcontextprotocol.spec.McpSchema;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The clients a program uses, each next to raw HTTP from the same language in the same run: exec of
 * {@code true} on the shared sandbox through the Java SDK (raw: the JDK's HttpClient), the Python SDK sync and
 * asyncio (raw: urllib) and the TypeScript SDK (raw: fetch), the latter two timed inside their own process
 * (bench/sdk/*), so an interpreter's start is not counted; and an MCP tools/call of exec through
 * {@code bhatti mcp} on stdio, driven by the official MCP client (raw: the JDK's HttpClient). A client whose
 * runtime is missing is skipped with a note, never failed.
 */
final class SdkSection implements Section {
    static final String SECTION = "sdk";
    static final String JAVA_RAW = "exec true (Java HttpClient, raw)";
    static final String JAVA_SDK = "exec true (Java SDK)";
    static final String PY_RAW = "exec true (Python urllib, raw)";
    static final String PY_SDK = "exec true (Python SDK)";
    static final String PY_ASYNC = "exec true (Python SDK, asyncio)";
    static final String TS_RAW = "exec true (Node fetch, raw)";
    static final String TS_SDK = "exec true (TypeScript SDK)";
    static final String MCP = "exec true (MCP tools/call, stdio)";
    private static final JsonMapper JSON = JsonMapper.builder().build();

    @Override public String title() { return "SDKs: exec round trip through each client, next to raw HTTP"; }

    @Override
    public void run(Context ctx) throws Exception {
        Options o = ctx.opt();
        Results r = ctx.results();
        Samples javaRaw = r.add(SECTION, JAVA_RAW, null);
        Samples javaSdk = r.add(SECTION, JAVA_SDK, JAVA_RAW);
        try (Bhatti client = Bhatti.connect(ctx.api().url(), ctx.api().token())) {
            Sandbox sb = client.sandboxes().get(ctx.mainName);
            for (int i = 0; i < o.warmHttp; i++) {
                sdkTrue(sb);
                ctx.api().execOk(ctx.mainId, List.of("true"));
            }
            for (int i = 0; i < o.nSdk; i++) { // interleaved, so drift hits both alike
                javaSdk.add(Timer.time(() -> sdkTrue(sb)));
                javaRaw.add(Timer.time(() -> ctx.api().execOk(ctx.mainId, List.of("true"))));
            }
        }
        Path sdk = o.sdkDir;
        driver(ctx, "python", List.of("/usr/bin/python3", sdk.resolveSibling("bench/sdk/python_exec.py").toString()),
                new String[][] {{"raw", PY_RAW, null}, {"sdk", PY_SDK, PY_RAW}, {"async", PY_ASYNC, PY_RAW}});
        if (ensureTypeScriptBuilt(sdk.resolve("typescript"))) {
            driver(ctx, "typescript", List.of("node", sdk.resolveSibling("bench/sdk/ts_exec.mjs").toString()),
                    new String[][] {{"raw", TS_RAW, null}, {"sdk", TS_SDK, TS_RAW}});
        }
        mcp(ctx, javaRaw);
        r.print(SECTION);
    }

    /** MCP tool calls of exec, interleaved with more raw HttpClient samples (the same floor as the Java SDK's). */
    private static void mcp(Context ctx, Samples raw) {
        Samples calls = ctx.results().add(SECTION, MCP, JAVA_RAW);
        // the client logs each start and stop at INFO: not the report's business
        ((ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger("io.modelcontextprotocol")).setLevel(ch.qos.logback.classic.Level.WARN);
        var params = ServerParameters.builder(ctx.opt().cli).args("mcp")
                .env(Map.of("BHATTI_URL", ctx.api().url(), "BHATTI_TOKEN", ctx.api().token(), "BHATTI_CONFIG", "/nonexistent")).build();
        McpSyncClient client = McpClient.sync(new StdioClientTransport(params, McpJsonDefaults.getMapper()))
                .requestTimeout(Duration.ofMinutes(2)).initializationTimeout(Duration.ofMinutes(1))
                .clientInfo(new McpSchema.Implementation("bhatti-bench", "1")).build();
        try {
            client.initialize();
            var request = new McpSchema.CallToolRequest("exec", Map.of("sandbox", ctx.mainName, "command", "true"));
            for (int i = 0; i < ctx.opt().warmHttp; i++) mcpTrue(client, request);
            for (int i = 0; i < ctx.opt().nSdk; i++) {
                calls.add(Timer.time(() -> mcpTrue(client, request)));
                raw.add(Timer.time(() -> ctx.api().execOk(ctx.mainId, List.of("true"))));
            }
        } catch (Exception e) {
            throw new BenchFailure("bhatti mcp: " + e.getMessage());
        } finally {
            client.closeGracefully();
        }
    }

    private static void mcpTrue(McpSyncClient client, McpSchema.CallToolRequest request) {
        var result = client.callTool(request);
        boolean ok = !Boolean.TRUE.equals(result.isError()) && result.content().getFirst() instanceof McpSchema.TextContent t
                && t.text().startsWith("exit code 0");
        if (!ok) throw new BenchFailure("exec true through bhatti mcp failed: " + result.content());
    }

    private static void sdkTrue(Sandbox sb) {
        if (sb.exec("true").exitCode() != 0) throw new BenchFailure("true failed through the Java SDK");
    }

    /** Runs a driver that prints {"key": [ns...], ...} and records each key's samples under its label. */
    private static void driver(Context ctx, String what, List<String> command, String[][] series) throws Exception {
        if (!Files.isExecutable(Path.of(command.getFirst())) && !HostFacts.onPath(command.getFirst())) {
            System.out.println("  (" + what + ": " + command.getFirst() + " not found; skipped)");
            return;
        }
        var argv = new ArrayList<>(command);
        argv.addAll(List.of(ctx.mainName, String.valueOf(ctx.opt().nSdk), String.valueOf(ctx.opt().warmHttp)));
        var pb = new ProcessBuilder(argv).redirectError(ProcessBuilder.Redirect.INHERIT);
        pb.environment().put("BHATTI_URL", ctx.api().url());
        pb.environment().put("BHATTI_TOKEN", ctx.api().token());
        pb.environment().remove("BHATTI_CONFIG");
        Process p = pb.start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(10, TimeUnit.MINUTES) || p.exitValue() != 0) throw new BenchFailure(what + " driver failed: " + out);
        JsonNode result = JSON.readTree(out.lines().reduce((a, b) -> b).orElse("{}"));
        for (String[] s : series) {
            Samples samples = ctx.results().add(SECTION, s[1], s[2]);
            for (JsonNode ns : result.path(s[0])) samples.add(ns.asLong());
        }
    }

    /** The TypeScript SDK is compiled once (npm ci + tsc, as its tests do); false, with a note, without Node. */
    private static boolean ensureTypeScriptBuilt(Path dir) throws IOException, InterruptedException {
        if (Files.exists(dir.resolve("dist/src/index.js"))) return true;
        if (!HostFacts.onPath("npm") || !HostFacts.onPath("node")) {
            System.out.println("  (typescript: node or npm not found; skipped)");
            return false;
        }
        for (String step : List.of("npm ci --no-audit --no-fund", "npm run build")) {
            Process p = new ProcessBuilder("sh", "-c", step).directory(dir.toFile()).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (p.waitFor() != 0) throw new BenchFailure("typescript SDK: " + step + " failed: " + out);
        }
        return true;
    }
}
