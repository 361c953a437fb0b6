package dev.bhatti.cli;

import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The checks of a tool call's arguments: what a model sent wrong, said so that it can fix it. */
class McpArgsTest {
    private static final List<McpParam> PARAMS = List.of(
            McpParam.string("sandbox", "Name of the sandbox.").required(),
            McpParam.integer("timeout", "Seconds.").range(1, 86_400).byDefault(300),
            McpParam.number("cpus", "CPUs.").range(1, 8),
            McpParam.integer("offset", "Line.").atLeast(1),
            McpParam.bool("background", "Detach.").byDefault(false),
            McpParam.stringMap("env", "Variables."),
            McpParam.string("encoding", "How.").oneOf("text", "base64").byDefault("text"),
            McpParam.string("content", "Content.").required().emptyAllowed());

    private static McpArgs check(Map<String, Object> args) throws McpToolError { return McpArgs.check("exec", PARAMS, args); }

    private static Map<String, Object> valid() {
        var m = new HashMap<String, Object>();
        m.put("sandbox", "dev");
        m.put("content", "");
        return m;
    }

    @Test
    void validArgumentsGiveTheirValuesAndDefaultsFillTheRest() throws Exception {
        var m = valid();
        m.put("env", Map.of("A", "1"));
        m.put("cpus", 2.5);
        var args = check(m);
        assertThat(args.string("sandbox")).isEqualTo("dev");
        assertThat(args.integer("timeout")).isEqualTo(300);
        assertThat(args.given("timeout")).isFalse();
        assertThat(args.bool("background")).isFalse();
        assertThat(args.number("cpus")).isEqualTo(2.5);
        assertThat(args.stringMap("env")).containsEntry("A", "1");
        assertThat(args.string("encoding")).isEqualTo("text");
        assertThat(args.string("content")).isEmpty();
    }

    @Test
    void anIntegerMayComeAsAWholeFloatingPointNumber() throws Exception {
        var m = valid();
        m.put("timeout", 30.0);
        assertThat(check(m).integer("timeout")).isEqualTo(30);
        m.put("timeout", 30L);
        assertThat(check(m).integer("timeout")).isEqualTo(30);
    }

    @Test
    void aMissingRequiredArgumentIsNamedWithWhatItIs() {
        assertThatThrownBy(() -> check(Map.of("content", "x")))
                .isInstanceOf(McpToolError.class)
                .hasMessageContaining("missing required argument 'sandbox' (string: Name of the sandbox)")
                .hasMessageContaining("exec takes: sandbox (required), timeout, cpus, offset, background, env, encoding, content (required)");
        assertThatThrownBy(() -> check(null)).hasMessageContaining("missing required argument 'sandbox'")
                .hasMessageContaining("missing required argument 'content'");
    }

    @Test
    void wrongTypesSayWhatWasExpectedAndWhatCame() {
        var m = valid();
        m.put("sandbox", 42);
        m.put("timeout", "soon");
        m.put("background", "yes");
        m.put("env", List.of("A=1"));
        m.put("cpus", "two");
        assertThatThrownBy(() -> check(m)).isInstanceOf(McpToolError.class)
                .hasMessageContaining("argument 'sandbox' must be a string, got a number (42)")
                .hasMessageContaining("argument 'timeout' must be an integer, got a string (\"soon\")")
                .hasMessageContaining("argument 'background' must be true or false, got a string (\"yes\")")
                .hasMessageContaining("argument 'env' must be an object of string values")
                .hasMessageContaining("argument 'cpus' must be a number, got a string (\"two\")")
                .hasMessageEndingWith("Fix the arguments and call it again.");
    }

    @Test
    void fractionsRangesChoicesAndEmptyNamesAreRefused() {
        var m = valid();
        m.put("timeout", 1.5);
        assertThatThrownBy(() -> check(m)).hasMessageContaining("argument 'timeout' must be an integer, got a number (1.5)");
        m.put("timeout", 0);
        assertThatThrownBy(() -> check(m)).hasMessageContaining("argument 'timeout' must be between 1 and 86400, got 0");
        m.put("timeout", 10);
        m.put("offset", 0);
        assertThatThrownBy(() -> check(m)).hasMessageContaining("argument 'offset' must be at least 1, got 0");
        m.put("offset", 5_000_000_000L);
        m.put("encoding", "hex");
        assertThatThrownBy(() -> check(m)).hasMessageContaining("argument 'encoding' must be one of [text, base64], got \"hex\"");
        m.put("encoding", "text");
        m.put("sandbox", " ");
        assertThatThrownBy(() -> check(m)).hasMessageContaining("argument 'sandbox' must not be empty");
        m.put("sandbox", "dev");
        m.put("env", Map.of("A", 1));
        assertThatThrownBy(() -> check(m)).hasMessageContaining("must have string values only; 'A' is a number (1)");
    }

    @Test
    void unknownArgumentsAreRefusedSoThatATypoIsNotIgnored() {
        var m = valid();
        m.put("timout", 10);
        assertThatThrownBy(() -> check(m)).hasMessageContaining("unknown argument 'timout'").hasMessageContaining("exec takes: sandbox");
    }

    @Test
    void theSchemaSaysWhatTheChecksEnforce() {
        var schema = McpParam.objectSchema(PARAMS);
        assertThat(schema).containsEntry("type", "object").containsEntry("additionalProperties", false)
                .containsEntry("required", List.of("sandbox", "content"));
        @SuppressWarnings("unchecked")
        var props = (Map<String, Map<String, Object>>) schema.get("properties");
        assertThat(props.get("timeout")).containsEntry("type", "integer").containsEntry("minimum", 1L).containsEntry("maximum", 86_400L)
                .containsEntry("default", 300);
        assertThat(props.get("env")).containsEntry("type", "object").containsEntry("additionalProperties", Map.of("type", "string"));
        assertThat(props.get("encoding")).containsEntry("enum", List.of("text", "base64"));
        assertThat(props.values()).allSatisfy(p -> assertThat((String) p.get("description")).isNotBlank());
    }
}
