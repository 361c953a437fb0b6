package dev.bhatti.cli;

import tools.jackson.databind.JsonNode;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The tools of {@code bhatti mcp}, each a call of the daemon's REST API through the CLI's own client (so
 * scoped to the key the server was started with). Descriptions are written for a model: what the tool
 * does, units and defaults, and what to do next.
 */
final class McpTools {
    static final McpParam SANDBOX = McpParam.string("sandbox", "Name (or id) of the sandbox, as create returned it or list shows it.")
            .required();

    /** What the model reads first (the initialize result's instructions). */
    static final String INSTRUCTIONS = """
            bhatti runs Linux sandboxes: small virtual machines (Debian, with their own disk and network) that belong to \
            the API key this server was started with. Start with list (what exists) or create (a new one; give it a name: \
            creating a name that exists returns that sandbox unchanged). exec runs shell commands in it; write_file, \
            read_file and list_files move files in and out; publish gives a port a public URL. Relative paths start in \
            /workspace; commands run as an unprivileged user (uid 1000; pass user "root" for root, sudo works too). \
            stop saves a sandbox to disk, memory and processes included, and frees its memory: start, or any call that \
            needs it (exec, read_file...), wakes it where it was. snapshot keeps a named copy of a sandbox's moment and \
            resume makes new sandboxes from it. destroy deletes a sandbox and its disk for good. Errors come back as \
            tool results that say what went wrong and what to do next.""";

    private McpTools() {}

    /** All twelve, in the order a model meets them. */
    static List<McpTool> all(ApiClient client, int outputLimit) {
        var files = new McpFiles(client).tools();
        var tools = new ArrayList<McpTool>();
        tools.add(create(client));
        tools.add(list(client));
        tools.add(new McpExec(client, outputLimit).tool());
        tools.addAll(files);
        tools.add(snapshot(client));
        tools.add(resume(client));
        tools.add(stop(client));
        tools.add(start(client));
        tools.add(publish(client));
        tools.add(destroy(client));
        return List.copyOf(tools);
    }

    /** A sandbox in one line: name, state, size, image, address. */
    static String describe(JsonNode s) {
        String thermal = s.path("thermal").asString("");
        return "sandbox " + s.path("name").asString() + ": " + s.path("status").asString() + (thermal.isEmpty() ? "" : " (" + thermal + ")")
                + ", " + s.path("cpus").asInt() + " vCPU, " + s.path("memory_mb").asInt() + " MB, image " + s.path("image").asString("?")
                + (s.path("ip").isString() ? ", ip " + s.path("ip").asString() : "");
    }

    private static String sandboxPath(McpArgs args) { return "/sandboxes/" + ApiClient.segment(args.string("sandbox")); }

    private static McpTool create(ApiClient client) {
        return new McpTool("create", "Create a sandbox",
                "Create a sandbox (a new Linux microVM) and wait until it is ready; returns it (name, status, vCPUs, memory, image,"
                        + " ip). Idempotent by name: if a sandbox with this name exists, it is returned unchanged (no new VM, no error)."
                        + " Booting takes seconds (up to a minute on a slow host). Next: exec to run commands in it, write_file to put"
                        + " files in it. Destroy it when done: sandboxes count against this key's quota.",
                List.of(McpParam.string("name", "Sandbox name: letters, digits, '.', '_' and '-', starting with a letter or digit,"
                                + " at most 63 characters. Default: a generated name (read it from the result)."),
                        McpParam.string("image", "What to boot: a tier (minimal, the default: Debian with common tools; browser: with"
                                + " Chromium and Playwright; docker: with Docker; computer: a desktop), or an image of this user's."),
                        McpParam.integer("cpus", "Virtual CPUs; default 1.").range(1, 1024),
                        McpParam.integer("memory_mb", "Memory in MB; default 512, at least 128.").range(128, 1_048_576),
                        McpParam.integer("disk_size_mb", "Root disk size in MB (e.g. 8192 for 8 GiB); default: the image's own size.")
                                .range(1, 1_048_576),
                        McpParam.stringMap("env", "Environment variables every command in the sandbox gets, e.g. {\"TZ\": \"UTC\"}."),
                        McpParam.string("init", "Shell script run once after boot, in the background (e.g. to start a service); default none."),
                        McpParam.bool("keep_hot", "Never pause or stop it when idle (for a server that must answer at once); default false.")
                                .byDefault(false)),
                McpTool.hints(false, false, true), (args, progress) -> {
                    var body = new LinkedHashMap<String, Object>();
                    for (String key : List.of("name", "image", "init")) if (args.given(key)) body.put(key, args.string(key));
                    for (String key : List.of("cpus", "memory_mb", "disk_size_mb")) if (args.given(key)) body.put(key, args.integer(key));
                    if (args.given("env")) body.put("env", args.stringMap("env"));
                    if (args.bool("keep_hot")) body.put("keep_hot", true);
                    progress.report("creating the sandbox");
                    var reply = client.post("/sandboxes", body);
                    JsonNode s = reply.body();
                    String summary = (reply.existing() ? "Already existed, unchanged: " : "Created ") + describe(s) + ".";
                    for (JsonNode w : s.path("warnings")) summary += "\nWarning: " + w.asString();
                    return McpTool.json(summary, s);
                });
    }

    private static McpTool list(ApiClient client) {
        return new McpTool("list", "List sandboxes",
                "List the sandboxes this API key can use: name, status (running, stopped...), thermal state (hot: running; warm:"
                        + " paused in memory; cold: saved to disk), vCPUs, memory, image and ip. Listing never wakes a sandbox.",
                List.of(), McpTool.hints(true, false, true), (args, progress) -> {
                    JsonNode list = client.get("/sandboxes").body();
                    var lines = new ArrayList<String>();
                    for (JsonNode s : list) lines.add(describe(s));
                    String summary = lines.isEmpty() ? "No sandboxes yet; create one with create." : lines.size() + " sandbox(es):\n"
                            + String.join("\n", lines);
                    return McpTool.json(summary, Map.of("sandboxes", ApiClient.JSON.convertValue(list, List.class)));
                });
    }

    private static McpTool snapshot(ApiClient client) {
        return new McpTool("snapshot", "Snapshot a sandbox",
                "Take a named snapshot of a sandbox: its memory, processes and disk at this moment. The sandbox goes on as it was"
                        + " (a running one pauses for about a second per few hundred MB of memory). Later, resume makes a new sandbox"
                        + " from the snapshot, any number of times. A name that is already taken is refused: choose another.",
                List.of(SANDBOX, McpParam.string("name", "Snapshot name: letters, digits, '.', '_' and '-'.").required()),
                McpTool.hints(false, false, false), (args, progress) -> {
                    progress.report("taking the snapshot");
                    JsonNode s = client.post(sandboxPath(args) + "/checkpoint", Map.of("name", args.string("name"))).body();
                    return McpTool.json("Snapshot " + s.path("name").asString() + " taken of " + s.path("source_sandbox").asString()
                            + " (" + s.path("size_bytes").asLong() / (1024 * 1024) + " MB). Resume it with resume.", s);
                });
    }

    private static McpTool resume(ApiClient client) {
        return new McpTool("resume", "Resume a snapshot as a new sandbox",
                "Create a new sandbox from a snapshot's exact moment (memory, processes and disk as they were), with its own name."
                        + " The snapshot stays and can be resumed again. To wake a stopped sandbox instead, use start.",
                List.of(McpParam.string("snapshot", "Name of the snapshot, as given to snapshot.").required(),
                        McpParam.string("name", "Name of the new sandbox; default: the snapshot's name with a random suffix.")),
                McpTool.hints(false, false, false), (args, progress) -> {
                    var body = new LinkedHashMap<String, Object>();
                    if (args.given("name")) body.put("name", args.string("name"));
                    progress.report("resuming the snapshot");
                    JsonNode s = client.post("/snapshots/" + ApiClient.segment(args.string("snapshot")) + "/resume", body).body();
                    return McpTool.json("Resumed snapshot " + args.string("snapshot") + " as " + describe(s) + ".", s);
                });
    }

    private static McpTool stop(ApiClient client) {
        return new McpTool("stop", "Stop a sandbox",
                "Save a sandbox to disk (memory, processes and files) and free its memory and CPU. Nothing is lost: start, or any"
                        + " call that needs it (exec, read_file...), resumes it exactly where it was.",
                List.of(SANDBOX), McpTool.hints(false, false, true), (args, progress) -> {
                    JsonNode s = client.post(sandboxPath(args) + "/stop", Map.of()).body();
                    return McpTool.json("Stopped " + describe(s) + ".", s);
                });
    }

    private static McpTool start(ApiClient client) {
        return new McpTool("start", "Start a stopped sandbox",
                "Resume a stopped sandbox where it was (its processes go on). Starting a running sandbox changes nothing. If its"
                        + " saved state is missing or unusable, the call fails: force boots it afresh from its disk (memory is lost).",
                List.of(SANDBOX, McpParam.bool("force", "Boot afresh from the disk if the saved state cannot be resumed; default false.")
                        .byDefault(false)),
                McpTool.hints(false, false, true), (args, progress) -> {
                    JsonNode s = client.post(sandboxPath(args) + "/start", Map.of("force", args.bool("force"))).body();
                    return McpTool.json("Started " + describe(s) + ".", s);
                });
    }

    private static McpTool publish(ApiClient client) {
        return new McpTool("publish", "Publish a sandbox port at a public URL",
                "Publish a port of a sandbox at a public URL served by the bhatti daemon's proxy: anyone with the URL reaches the"
                        + " port, without an API key (a stopped sandbox wakes on the first request). Something must listen on that port in"
                        + " the sandbox (start a server with exec and background: true). Publishing the same port again returns the"
                        + " same URL. The result has no URL when the daemon runs no public proxy (it says why).",
                List.of(SANDBOX, McpParam.integer("port", "Port in the sandbox, e.g. 8000.").range(1, 65_535).required(),
                        McpParam.string("alias", "Host name label of the URL (<alias>.<proxy domain>); default: the sandbox name plus 6 hex digits.")),
                McpTool.hints(false, false, true), (args, progress) -> {
                    var body = new LinkedHashMap<String, Object>();
                    body.put("port", args.integer("port"));
                    if (args.given("alias")) body.put("alias", args.string("alias"));
                    var reply = client.post(sandboxPath(args) + "/publish", body);
                    JsonNode r = reply.body();
                    String where = r.path("url").isString() ? "at " + r.path("url").asString()
                            : "with no URL: " + r.path("url_unavailable").asString("the daemon runs no public proxy");
                    return McpTool.json((reply.existing() ? "Already published: " : "Published: ") + "port " + args.integer("port") + " of "
                            + args.string("sandbox") + " " + where + ".", r);
                });
    }

    private static McpTool destroy(ApiClient client) {
        return new McpTool("destroy", "Destroy a sandbox",
                "Destroy a sandbox: its VM and disk are deleted for good (its snapshots stay). Use it when the work is done;"
                        + " to keep the sandbox but free its memory, use stop instead.",
                List.of(SANDBOX), new io.modelcontextprotocol.spec.McpSchema.ToolAnnotations(null, false, true, true, false, null),
                (args, progress) -> {
                    client.delete(sandboxPath(args));
                    return McpTool.json("Destroyed sandbox " + args.string("sandbox") + ".", Map.of("destroyed", args.string("sandbox")));
                });
    }
}
