package dev.bhatti.cli;

import io.modelcontextprotocol.spec.McpSchema;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.SerializationFeature;

import java.util.List;
import java.util.Map;

/**
 * One tool of {@code bhatti mcp}: what the model reads (name, description, argument schema, hints) and the
 * call. Whatever goes wrong in a call (bad arguments, the daemon's refusal, a bug here) comes back as a result
 * with {@code isError: true} and a readable message: the server keeps serving.
 */
record McpTool(String name, String title, String description, List<McpParam> params, McpSchema.ToolAnnotations hints,
               Handler handler) {

    interface Handler {
        McpSchema.CallToolResult call(McpArgs args, Progress progress) throws McpToolError, CliException;
    }

    /** Progress of a long call, for a client that asked for it (a progressToken); otherwise reports go nowhere. */
    interface Progress {
        Progress NONE = message -> { };

        void report(String message);
    }

    McpSchema.Tool tool() {
        return McpSchema.Tool.builder().name(name).title(title).description(description)
                .inputSchema(McpParam.objectSchema(params)).annotations(hints).build();
    }

    McpSchema.CallToolResult call(Map<String, Object> arguments, Progress progress) {
        try {
            return handler.call(McpArgs.check(name, params, arguments), progress);
        } catch (McpToolError e) {
            return error(e.getMessage());
        } catch (CliException e) {
            return error(McpToolError.from(e).getMessage());
        } catch (RuntimeException e) {
            return error("The MCP server failed on this call (" + e + "). This is a bug in bhatti mcp; other calls still work.");
        }
    }

    static McpSchema.CallToolResult error(String message) {
        return McpSchema.CallToolResult.builder().addTextContent(message).isError(true).build();
    }

    static McpSchema.CallToolResult text(String text) {
        return McpSchema.CallToolResult.builder().addTextContent(text).isError(false).build();
    }

    /** A summary line for the model, the JSON under it, and the same JSON as structured content (an object). */
    static McpSchema.CallToolResult json(String summary, Map<String, Object> structured) {
        String json = PRETTY.writeValueAsString(structured);
        return McpSchema.CallToolResult.builder().addTextContent(summary + "\n" + json).structuredContent(structured).isError(false).build();
    }

    static McpSchema.CallToolResult json(String summary, JsonNode object) { return json(summary, map(object)); }

    @SuppressWarnings("unchecked")
    static Map<String, Object> map(JsonNode object) { return ApiClient.JSON.convertValue(object, Map.class); }

    private static final tools.jackson.databind.ObjectWriter PRETTY = ApiClient.JSON.writer().with(SerializationFeature.INDENT_OUTPUT);

    static McpSchema.ToolAnnotations hints(boolean readOnly, boolean destructive, boolean idempotent) {
        return new McpSchema.ToolAnnotations(null, readOnly, destructive, idempotent, false, null);
    }
}
