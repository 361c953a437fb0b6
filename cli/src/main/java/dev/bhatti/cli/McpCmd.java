package dev.bhatti.cli;

import io.modelcontextprotocol.json.McpJsonDefaults;
import io.modelcontextprotocol.json.schema.JsonSchemaValidator;
import io.modelcontextprotocol.json.schema.JsonSchemaValidator.ValidationResponse;
import io.modelcontextprotocol.server.McpServer;
import io.modelcontextprotocol.server.McpServerFeatures;
import io.modelcontextprotocol.server.McpSyncServerExchange;
import io.modelcontextprotocol.server.transport.StdioServerTransportProvider;
import io.modelcontextprotocol.spec.McpSchema;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintStream;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code bhatti mcp}: an MCP server on stdin/stdout for a client that starts it (an IDE, an agent), with the
 * official MCP Java SDK. Its tools call the daemon as every other command does, with the same URL and key.
 * stdout carries MCP messages only: anything else printed goes to stderr.
 */
@Command(name = "mcp", mixinStandardHelpOptions = true,
        description = {"Serve MCP (Model Context Protocol) on stdin/stdout: an MCP client such as an IDE or an agent starts it"
                + " and gets tools to create sandboxes, run commands, move files, snapshot, stop, start, publish and destroy them,"
                + " with the API key it was started with (--token, BHATTI_TOKEN or the config file, as every command).",
                "Tools: create, list, exec, read_file, write_file, list_files, snapshot, resume, stop, start, publish, destroy."},
        footer = {"", "In an MCP client's configuration (Claude Desktop, Cursor and others read this shape):", "",
                "  {",
                "    \"mcpServers\": {",
                "      \"bhatti\": {",
                "        \"command\": \"/usr/local/bin/bhatti\",",
                "        \"args\": [\"mcp\"],",
                "        \"env\": {",
                "          \"BHATTI_URL\": \"http://127.0.0.1:8080\",",
                "          \"BHATTI_TOKEN\": \"bht_...\"",
                "        }",
                "      }",
                "    }",
                "  }", "",
                "Without env, it reads ~/.bhatti/config.yaml (bhatti setup) of the user the client runs as.",
                "stdout carries MCP messages only; anything else goes to stderr. The server ends when its stdin closes"
                        + " and every request read is answered."})
final class McpCmd implements Callable<Integer> {
    @Option(names = "--url", description = "API endpoint (default: BHATTI_URL, then the config file, then " + CliConfig.DEFAULT_URL + ")")
    String url;

    @Option(names = "--token", description = "API key (default: BHATTI_TOKEN, then the config file)")
    String token;

    @Option(names = "--max-output", paramLabel = "BYTES", description = "Bytes of stdout and of stderr each exec result keeps, each"
            + " cut to its first and last half when longer (default 65536)")
    int maxOutput = 64 * 1024;

    @Override
    public Integer call() throws Exception {
        if (maxOutput < 1024 || maxOutput > 16 * 1024 * 1024) throw new CliException("--max-output must be from 1024 to 16777216 bytes");
        ApiClient client = ClientOptions.client(url, token);
        PrintStream protocol = System.out;
        System.setOut(System.err); // a stray print must not corrupt the protocol
        var pending = new McpPending();
        var transport = new StdioServerTransportProvider(McpJsonDefaults.getMapper(), pending.input(System.in), pending.output(protocol));
        var specs = McpTools.all(client, maxOutput).stream().map(McpCmd::spec).toList();
        var server = McpServer.sync(transport)
                .serverInfo("bhatti", VersionCmd.VERSION)
                .instructions(McpTools.INSTRUCTIONS)
                .capabilities(McpSchema.ServerCapabilities.builder().tools(false).build())
                .validateToolInputs(false) // McpArgs checks them, with messages written for a model
                .jsonSchemaValidator(NO_SCHEMA_VALIDATION)
                .tools(specs)
                .build();
        pending.awaitQuiet(); // the client closed our stdin, and what it asked before is answered: the session is over
        server.closeGracefully();
        protocol.flush();
        return 0;
    }

    /**
     * The SDK would otherwise load its JSON Schema validator (networknt's) to check the tools' input schemas at
     * start-up: inputs are checked by {@link McpArgs}, the tools declare no output schemas, and the input schemas
     * are checked with that validator by a test (McpToolsTest), so the running server needs none of it.
     */
    static final JsonSchemaValidator NO_SCHEMA_VALIDATION = new JsonSchemaValidator() {
        @Override
        public ValidationResponse validate(Map<String, Object> schema, Object instance) { return ValidationResponse.asValid(null); }

        @Override
        public ValidationResponse validateSchema(Map<String, Object> schema) { return ValidationResponse.asValid(null); }
    };

    private static McpServerFeatures.SyncToolSpecification spec(McpTool tool) {
        return McpServerFeatures.SyncToolSpecification.builder().tool(tool.tool())
                .callHandler((exchange, request) -> tool.call(request.arguments(), progress(exchange, request)))
                .build();
    }

    /** Progress notifications for a request that carried a progressToken; the value is the seconds since the call began. */
    static McpTool.Progress progress(McpSyncServerExchange exchange, McpSchema.CallToolRequest request) {
        Object token = request.progressToken();
        if (token == null) return McpTool.Progress.NONE;
        long started = System.nanoTime();
        return new McpTool.Progress() {
            private double last = -1;

            @Override
            public synchronized void report(String message) {
                // the spec wants each value above the one before
                last = Math.max(last + 0.001, (System.nanoTime() - started) / 1e9);
                try {
                    exchange.progressNotification(new McpSchema.ProgressNotification(token, last, null, message));
                } catch (RuntimeException e) {
                    // a client that went away: the call's result will not reach it either
                }
            }
        };
    }
}
