package dev.bhatti.cli;

import io.modelcontextprotocol.json.McpJsonDefaults;
import io.modelcontextprotocol.spec.McpSchema;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The tool catalogue as a model reads it, and results and errors as it gets them (no daemon: the IT has one). */
class McpToolsTest {
    private static final ApiClient NOWHERE = new ApiClient(new CliConfig("http://127.0.0.1:1", "k"));

    @Test
    void twelveToolsEachWithADescriptionAndAValidSchemaWhoseArgumentsAreDescribed() {
        var tools = McpTools.all(NOWHERE, 64 * 1024);
        assertThat(tools).extracting(McpTool::name).containsExactly("create", "list", "exec", "read_file", "write_file", "list_files",
                "snapshot", "resume", "stop", "start", "publish", "destroy");
        var validator = McpJsonDefaults.getSchemaValidator();
        for (McpTool t : tools) {
            McpSchema.Tool tool = t.tool();
            assertThat(tool.description()).as(t.name()).hasSizeGreaterThan(80);
            assertThat(tool.title()).as(t.name()).isNotBlank();
            assertThat(tool.annotations()).as(t.name()).isNotNull();
            assertThat(t.params()).allSatisfy(p -> assertThat(p.description()).as(t.name() + " " + p.name()).endsWith("."));
            // the schema, checked by the SDK's validator (a client may use it), agrees with McpArgs on good and bad input
            var good = new java.util.HashMap<String, Object>();
            for (McpParam p : t.params()) {
                if (!p.mandatory()) continue;
                good.put(p.name(), switch (p.kind()) {
                    case STRING -> "x";
                    case INTEGER, NUMBER -> p.min() == null ? 1 : p.min();
                    case BOOLEAN -> true;
                    case STRING_MAP -> Map.of();
                });
            }
            assertThat(validator.validate(tool.inputSchema(), good).valid()).as(t.name() + " " + good).isTrue();
            assertThatCode(() -> McpArgs.check(t.name(), t.params(), good)).as(t.name()).doesNotThrowAnyException();
            var bad = new java.util.HashMap<>(good);
            bad.put("nope", 1);
            assertThat(validator.validate(tool.inputSchema(), bad).valid()).as(t.name()).isFalse();
            assertThatThrownBy(() -> McpArgs.check(t.name(), t.params(), bad)).isInstanceOf(McpToolError.class);
        }
    }

    @Test
    void aCallWithBadArgumentsIsAToolErrorNotAnException() {
        var exec = McpTools.all(NOWHERE, 64 * 1024).stream().filter(t -> t.name().equals("exec")).findFirst().orElseThrow();
        var r = exec.call(Map.of("sandbox", 1), McpTool.Progress.NONE);
        assertThat(r.isError()).isTrue();
        assertThat(((McpSchema.TextContent) r.content().getFirst()).text()).contains("argument 'sandbox' must be a string")
                .contains("missing required argument 'command'");
    }

    @Test
    void anUnreachableDaemonIsAToolErrorThatSaysWhatToDo() {
        var list = McpTools.all(NOWHERE, 64 * 1024).get(1);
        var r = list.call(Map.of(), McpTool.Progress.NONE);
        assertThat(r.isError()).isTrue();
        assertThat(((McpSchema.TextContent) r.content().getFirst()).text()).contains("cannot reach the bhatti daemon")
                .contains("tell the user");
    }

    @Test
    void daemonRefusalsKeepTheDaemonsWordsAndAddANextStep() {
        assertThat(McpToolError.from(new CliException("404: sandbox not found: x (bhatti list ...)", 404, "sandbox not found: x")).getMessage())
                .isEqualTo("Not found (404): sandbox not found: x. Call list to see the sandboxes this key can use (names are exact).");
        assertThat(McpToolError.from(new CliException("409: ...", 409, "snapshot name taken")).getMessage())
                .startsWith("Conflict (409): snapshot name taken.").contains("choose another");
        assertThat(McpToolError.from(new CliException("429: ...", 429, "sandbox quota reached")).getMessage())
                .startsWith("Too many requests or over quota (429): sandbox quota reached.").contains("destroy");
        assertThat(McpToolError.from(new CliException("401: ...", 401, "invalid API key")).getMessage()).contains("ask the user");
        assertThat(McpToolError.from(new CliException("503: ...", 503, "busy")).getMessage()).startsWith("The daemon failed (503): busy.");
    }

    @Test
    void aStreamedExecGivesExitCodeOutputAndProgressThatStopsAtTheEnd() {
        var reports = new java.util.ArrayList<String>();
        var run = new McpExec.Run(reports::add, 16);
        run.event(DaemonUnderTest.json("{\"type\":\"stdout\",\"data\":\"hello\\n\"}"));
        run.event(DaemonUnderTest.json("{\"type\":\"stderr\",\"data\":\"" + "e".repeat(40) + "\"}"));
        run.event(DaemonUnderTest.json("{\"type\":\"exit\",\"exit_code\":3}"));
        run.finish();
        run.quietReport();
        var r = run.result();
        assertThat(r.isError()).isFalse();
        String text = ((McpSchema.TextContent) r.content().getFirst()).text();
        assertThat(text).startsWith("exit code 3 after ").contains("--- stdout (6 bytes) ---\nhello\n")
                .contains("--- stderr (40 bytes, 24 cut) ---").contains("[... 24 bytes of stderr cut here");
        @SuppressWarnings("unchecked")
        var s = (Map<String, Object>) r.structuredContent();
        assertThat(s).containsEntry("exit_code", 3).containsEntry("timed_out", false).containsEntry("stdout", "hello\n")
                .containsEntry("stderr_bytes", 40L).containsEntry("stderr_cut_bytes", 24L);
        assertThat(reports).isEmpty(); // all within the first second, then finished
    }

    @Test
    void readFileGivesTextAsIsBinaryAsBase64AndSaysWhenItCut() {
        String whole = text(McpFiles.readResult("/a", "hi\n".getBytes(StandardCharsets.UTF_8), 3, 65536, false));
        assertThat(whole).isEqualTo("hi\n");
        String cut = text(McpFiles.readResult("/a", "abcd".getBytes(StandardCharsets.UTF_8), 100, 4, false));
        assertThat(cut).startsWith("abcd\n[cut at max_bytes=4: /a has 100 bytes in all.").contains("offset/limit");
        String binary = text(McpFiles.readResult("/b", new byte[] {0, 1, 2}, 3, 65536, false));
        assertThat(binary).isEqualTo("[/b is binary (3 bytes); 3 bytes follow, base64-encoded]\nAAEC");
        // a cut inside a character is still text
        byte[] euro = "ab€".getBytes(StandardCharsets.UTF_8);
        assertThat(McpFiles.utf8(java.util.Arrays.copyOf(euro, 4), true)).isEqualTo("ab");
        assertThat(McpFiles.utf8(java.util.Arrays.copyOf(euro, 4), false)).isNull();
        assertThat(text(McpFiles.readResult("/e", new byte[0], 0, 65536, false))).isEqualTo("[/e is empty]");
    }

    private static String text(McpSchema.CallToolResult r) { return ((McpSchema.TextContent) r.content().getFirst()).text(); }

    @Test
    void theHelpSaysHowToConfigureAClient() {
        var out = new java.io.StringWriter();
        var cli = Subcommands.commandLine(new String[] {"mcp", "--help"});
        cli.setOut(new java.io.PrintWriter(out));
        assertThat(cli.execute("mcp", "--help")).isZero();
        assertThat(out.toString()).contains("\"mcpServers\"").contains("\"args\": [\"mcp\"]").contains("BHATTI_TOKEN");
        assertThat(List.of(out.toString().split("\n"))).allSatisfy(line -> assertThat(line.length()).isLessThanOrEqualTo(80));
    }
}
