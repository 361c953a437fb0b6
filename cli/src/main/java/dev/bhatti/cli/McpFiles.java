package dev.bhatti.cli;

import io.modelcontextprotocol.spec.McpSchema;
import tools.jackson.databind.JsonNode;

import java.io.ByteArrayInputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;

/** read_file, write_file and list_files: files in a sandbox, text or base64. */
final class McpFiles {
    static final int DEFAULT_READ_BYTES = 64 * 1024;
    static final int MAX_READ_BYTES = 1024 * 1024;
    private static final String PATH_NOTE = " Relative paths start in /workspace.";

    private final ApiClient client;

    McpFiles(ApiClient client) { this.client = client; }

    List<McpTool> tools() { return List.of(read(), write(), list()); }

    private static String query(String sandbox, String path) { return FileCmd.query(sandbox, path); }

    private McpTool read() {
        return new McpTool("read_file", "Read a file in a sandbox",
                "Read a file from a sandbox. Text comes back as is; a binary file comes back base64-encoded (the result says so)."
                        + " At most max_bytes are returned (default " + DEFAULT_READ_BYTES / 1024 + " KiB); a note at the end says when the"
                        + " file is longer and how to read the rest: use offset and limit to read a range of lines of a big file"
                        + " (e.g. offset 1001, limit 500), or grep it with exec.",
                List.of(McpTools.SANDBOX,
                        McpParam.string("path", "Path of the file in the sandbox, e.g. /workspace/app.py." + PATH_NOTE).required(),
                        McpParam.integer("offset", "First line to return, counting from 1; default: the start of the file.").atLeast(1),
                        McpParam.integer("limit", "Number of lines to return at most; default: all (up to max_bytes).").atLeast(1),
                        McpParam.integer("max_bytes", "Bytes to return at most; default " + DEFAULT_READ_BYTES + ", at most " + MAX_READ_BYTES + ".")
                                .range(1, MAX_READ_BYTES).byDefault(DEFAULT_READ_BYTES)),
                McpTool.hints(true, false, true), (args, progress) -> {
                    String path = args.string("path");
                    int max = Math.toIntExact(args.integer("max_bytes"));
                    var q = new StringBuilder(query(args.string("sandbox"), path));
                    if (args.given("offset")) q.append("&offset=").append(args.integer("offset"));
                    if (args.given("limit")) q.append("&limit=").append(args.integer("limit"));
                    q.append("&max_bytes=").append(max);
                    var fetched = client.fetch(q.toString(), max);
                    long size = parseSize(fetched.headers().get("x-file-size"));
                    boolean ranged = args.given("offset") || args.given("limit");
                    return readResult(path, fetched.body(), size, max, ranged);
                });
    }

    /** The file's bytes as text (or base64), with a note when they are not the whole file. */
    static McpSchema.CallToolResult readResult(String path, byte[] bytes, long size, int max, boolean ranged) {
        boolean cut = bytes.length >= max && (ranged || size > bytes.length);
        String text = utf8(bytes, cut);
        var out = new StringBuilder();
        if (text == null) {
            out.append("[").append(path).append(" is binary (").append(size).append(" bytes); ")
                    .append(bytes.length).append(" bytes follow, base64-encoded]\n")
                    .append(Base64.getEncoder().encodeToString(bytes));
        } else {
            out.append(text);
        }
        if (cut) {
            out.append(out.isEmpty() || out.charAt(out.length() - 1) == '\n' ? "" : "\n")
                    .append("[cut at max_bytes=").append(max).append(": ").append(path).append(" has ").append(size).append(" bytes in all.")
                    .append(" Read on with offset/limit (lines) or a larger max_bytes (at most ").append(MAX_READ_BYTES).append(").]");
        } else if (bytes.length == 0 && size == 0) {
            out.append("[").append(path).append(" is empty]");
        }
        return McpTool.text(out.toString());
    }

    /** Strict UTF-8 (a character split by a cut at the end excepted), or null for bytes that are not text. */
    static String utf8(byte[] bytes, boolean cut) {
        for (int drop = 0; drop <= (cut ? 3 : 0) && drop <= bytes.length; drop++) {
            try {
                String s = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                        .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes, 0, bytes.length - drop)).toString();
                return s.indexOf('\0') >= 0 ? null : s;
            } catch (CharacterCodingException e) {
                // try without a last partial character
            }
        }
        return null;
    }

    private static long parseSize(String header) {
        try {
            return header == null ? -1 : Long.parseLong(header.strip());
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    private McpTool write() {
        return new McpTool("write_file", "Write a file in a sandbox",
                "Create or replace a file in a sandbox with the given content (atomically; missing parent directories are created)."
                        + " The file belongs to the sandbox's unprivileged user (uid 1000). For binary content, pass it base64-encoded"
                        + " with encoding \"base64\". To change part of a file, read it, edit, and write it whole.",
                List.of(McpTools.SANDBOX,
                        McpParam.string("path", "Path of the file in the sandbox, e.g. /workspace/app.py." + PATH_NOTE).required(),
                        McpParam.string("content", "The whole new content of the file (text, or base64 with encoding \"base64\").")
                                .required().emptyAllowed(),
                        McpParam.string("encoding", "How content is written: \"text\" (UTF-8, the default) or \"base64\".")
                                .oneOf("text", "base64").byDefault("text"),
                        McpParam.string("mode", "Permissions in octal, e.g. \"0755\" for a script; default \"0644\".")),
                McpTool.hints(false, true, true), (args, progress) -> {
                    String path = args.string("path");
                    byte[] content;
                    if (args.string("encoding").equals("base64")) {
                        try {
                            content = Base64.getDecoder().decode(args.string("content").replaceAll("\\s+", "")); // line breaks allowed, nothing else
                        } catch (IllegalArgumentException e) {
                            throw new McpToolError("content is not valid base64 (" + e.getMessage() + "); send it base64-encoded,"
                                    + " or use encoding \"text\" for text.");
                        }
                    } else {
                        content = args.string("content").getBytes(StandardCharsets.UTF_8);
                    }
                    String q = query(args.string("sandbox"), path) + (args.given("mode") ? "&mode=" + ApiClient.segment(args.string("mode")) : "");
                    JsonNode r = client.upload(q, new ByteArrayInputStream(content)).body();
                    var structured = new LinkedHashMap<String, Object>();
                    structured.put("path", path);
                    structured.put("size", r.path("size").asLong(content.length));
                    return McpTool.json("Wrote " + structured.get("size") + " bytes to " + path + ".", structured);
                });
    }

    private McpTool list() {
        return new McpTool("list_files", "List a directory in a sandbox",
                "List the entries of a directory in a sandbox: type (d directory, - file, l symlink), permissions, size in bytes,"
                        + " modification time and name. For a recursive listing or a search, use exec (e.g. find /workspace -name '*.py').",
                List.of(McpTools.SANDBOX,
                        McpParam.string("path", "Directory in the sandbox; default /workspace." + PATH_NOTE).byDefault("/workspace")),
                McpTool.hints(true, false, true), (args, progress) -> {
                    String path = args.string("path");
                    JsonNode r = client.get(query(args.string("sandbox"), path) + "&ls=true").body();
                    JsonNode entries = r.isArray() ? r : r.path("entries");
                    var lines = new ArrayList<String>();
                    for (JsonNode e : entries) {
                        String type = FileCmd.typeLetter(e);
                        lines.add(type + " " + e.path("mode").asString() + " " + e.path("size").asLong() + " " + e.path("mtime").asString()
                                + " " + e.path("name").asString());
                    }
                    boolean truncated = r.path("truncated").asBoolean(false);
                    String head = lines.isEmpty() ? path + " is empty." : path + ": " + lines.size() + " entries"
                            + (truncated ? " shown of " + r.path("total").asLong() : "") + "\n" + String.join("\n", lines);
                    return McpTool.text(head);
                });
    }
}
