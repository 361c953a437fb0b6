package dev.bhatti.cli;

import io.modelcontextprotocol.spec.McpSchema;
import tools.jackson.databind.JsonNode;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The exec tool: a shell command in a sandbox, read from the daemon's NDJSON stream so that a long one can
 * report progress as its output arrives (and every few seconds while it is silent). stdout and stderr are
 * each kept within a limit, their beginning and end, with a marker saying how much was cut.
 */
final class McpExec {
    static final int DEFAULT_TIMEOUT_SEC = 300;
    static final int MAX_TIMEOUT_SEC = 86_400;
    /** At most one progress report a second from output; one after this long without output. */
    private static final long OUTPUT_REPORT_MS = 1_000;
    private static final long QUIET_REPORT_MS = 5_000;
    private static final ScheduledExecutorService TICKS = Executors.newSingleThreadScheduledExecutor(r -> {
        var t = new Thread(r, "mcp-exec-progress");
        t.setDaemon(true);
        return t;
    });

    private final ApiClient client;
    private final int outputLimit;

    McpExec(ApiClient client, int outputLimit) {
        this.client = client;
        this.outputLimit = outputLimit;
    }

    McpTool tool() {
        return new McpTool("exec", "Run a shell command in a sandbox",
                "Run a shell command in a sandbox and return its exit code, stdout and stderr. The command is one string run by"
                        + " /bin/sh -c, so pipes, &&, redirects and globs work. It runs as an unprivileged user (uid 1000) in /workspace"
                        + " unless user or cwd say otherwise; state persists between calls (files, installed packages), but each call"
                        + " is a new shell (cd and exported variables do not carry over: use cwd and env). A stopped sandbox wakes by"
                        + " itself. stdout and stderr are each cut to their first and last " + (outputLimit / 1024 / 2) + " KiB when"
                        + " longer (a marker says how much was cut): for big output, write it to a file and use read_file. A command"
                        + " still running after timeout seconds is killed (the result says timed out). For servers or anything"
                        + " that should outlive the call, set background: true and read its output file later with read_file."
                        + " A non-zero exit code is a normal result, not an error: read stderr to see why.",
                List.of(McpTools.SANDBOX,
                        McpParam.string("command", "Shell command line, run by /bin/sh -c (e.g. \"ls -la && python3 --version\").").required(),
                        McpParam.integer("timeout", "Seconds before the command is killed; default " + DEFAULT_TIMEOUT_SEC + ".")
                                .range(1, MAX_TIMEOUT_SEC).byDefault(DEFAULT_TIMEOUT_SEC),
                        McpParam.string("cwd", "Absolute working directory in the sandbox; default /workspace."),
                        McpParam.stringMap("env", "Extra environment variables for this command, e.g. {\"DEBUG\": \"1\"}."),
                        McpParam.string("stdin", "Text fed to the command's standard input; default none."),
                        McpParam.string("user", "User to run as: \"root\" for root; default the sandbox's unprivileged user (uid 1000)."),
                        McpParam.bool("background", "Start the command detached and return at once with its pid and the sandbox file"
                                + " its output goes to (read it later with read_file); default false.").byDefault(false)),
                McpTool.hints(false, true, false), this::call);
    }

    private McpSchema.CallToolResult call(McpArgs args, McpTool.Progress progress) throws McpToolError, CliException {
        String sandbox = args.string("sandbox");
        var body = new LinkedHashMap<String, Object>();
        body.put("cmd", List.of("/bin/sh", "-c", args.string("command")));
        body.put("timeout_sec", args.integer("timeout"));
        if (args.given("cwd")) body.put("cwd", args.string("cwd"));
        if (args.given("env")) body.put("env", args.stringMap("env"));
        if (args.given("stdin")) body.put("stdin", args.string("stdin"));
        if (args.given("user")) body.put("user", args.string("user"));
        String path = "/sandboxes/" + ApiClient.segment(sandbox) + "/exec";
        if (args.bool("background")) {
            body.put("detach", true);
            JsonNode r = client.post(path, body).body();
            return McpTool.json("Started in the background in " + sandbox + " as pid " + r.path("pid").asLong() + "; its output goes to "
                    + r.path("output_file").asString() + " (read it with read_file; stop it with exec: kill " + r.path("pid").asLong() + ").", r);
        }
        return streamed(sandbox, path, body, progress);
    }

    private McpSchema.CallToolResult streamed(String sandbox, String path, Map<String, Object> body, McpTool.Progress progress)
            throws McpToolError, CliException {
        var run = new Run(progress, outputLimit);
        var ticks = TICKS.scheduleAtFixedRate(run::quietReport, QUIET_REPORT_MS, QUIET_REPORT_MS, TimeUnit.MILLISECONDS);
        try {
            client.stream(path, body, run::event);
        } finally {
            ticks.cancel(false);
            run.finish();
        }
        if (run.error != null) throw new McpToolError("The command could not run in " + sandbox + ": " + run.error);
        if (run.exitCode == null) {
            throw new McpToolError("The exec stream from the daemon ended before the command's exit code came; the command may"
                    + " still be running in " + sandbox + ". Check with exec (e.g. ps aux) before running it again.");
        }
        return run.result();
    }

    /** One exec's output and progress, fed event by event from the stream. */
    static final class Run {
        private final McpTool.Progress progress;
        private final OutputCap stdout;
        private final OutputCap stderr;
        private final long started = System.nanoTime();
        private long lastReport = started;
        private boolean finished;
        private String lastLine = "";
        Integer exitCode;
        boolean timedOut;
        String error;

        Run(McpTool.Progress progress, int outputLimit) {
            this.progress = progress;
            this.stdout = new OutputCap(outputLimit);
            this.stderr = new OutputCap(outputLimit);
        }

        void event(JsonNode e) {
            switch (e.path("type").asString("")) {
                case "stdout" -> output(stdout, e.path("data").asString(""));
                case "stderr" -> output(stderr, e.path("data").asString(""));
                case "exit" -> {
                    exitCode = e.path("exit_code").asInt(1);
                    timedOut = e.path("timed_out").asBoolean(false);
                }
                case "error" -> error = e.path("data").asString("exec failed");
                default -> { }
            }
        }

        private void output(OutputCap cap, String data) {
            synchronized (this) {
                cap.add(data);
                String trimmed = data.strip();
                if (!trimmed.isEmpty()) {
                    int nl = trimmed.lastIndexOf('\n');
                    lastLine = trimmed.substring(nl + 1);
                }
            }
            report(OUTPUT_REPORT_MS, false);
        }

        void quietReport() { report(QUIET_REPORT_MS, true); }

        /** Reports, at most every {@code everyMs}; under the lock, so that none goes out after {@link #finish}. */
        private synchronized void report(long everyMs, boolean quiet) {
            long now = System.nanoTime();
            if ((now - lastReport) / 1_000_000 < everyMs || exitCode != null || finished) return;
            lastReport = now;
            long bytes = stdout.total() + stderr.total();
            progress.report("running for " + (now - started) / 1_000_000_000 + " s, " + bytes + " bytes of output"
                    + (quiet ? ", nothing new" : lastLine.isEmpty() ? "" : "; last line: " + abbreviate(lastLine, 200)));
        }

        /** No progress after this: the call's result is on its way. */
        synchronized void finish() { finished = true; }

        McpSchema.CallToolResult result() {
            long ms = (System.nanoTime() - started) / 1_000_000;
            var text = new StringBuilder();
            text.append(timedOut ? "timed out and was killed (exit code " + exitCode + ")" : "exit code " + exitCode)
                    .append(" after ").append(ms).append(" ms\n");
            section(text, "stdout", stdout);
            section(text, "stderr", stderr);
            var structured = new LinkedHashMap<String, Object>();
            structured.put("exit_code", exitCode);
            structured.put("timed_out", timedOut);
            structured.put("stdout", stdout.text("stdout"));
            structured.put("stderr", stderr.text("stderr"));
            structured.put("stdout_bytes", stdout.total());
            structured.put("stderr_bytes", stderr.total());
            structured.put("stdout_cut_bytes", stdout.cut());
            structured.put("stderr_cut_bytes", stderr.cut());
            structured.put("duration_ms", ms);
            return McpSchema.CallToolResult.builder().addTextContent(text.toString()).structuredContent(structured).isError(false).build();
        }

        private static void section(StringBuilder text, String name, OutputCap cap) {
            if (cap.total() == 0) {
                text.append("--- ").append(name).append(": empty ---\n");
                return;
            }
            text.append("--- ").append(name).append(" (").append(cap.total()).append(" bytes")
                    .append(cap.cut() > 0 ? ", " + cap.cut() + " cut" : "").append(") ---\n");
            String s = cap.text(name);
            text.append(s);
            if (!s.endsWith("\n")) text.append('\n');
        }

        private static String abbreviate(String s, int max) { return s.length() <= max ? s : s.substring(0, max) + "..."; }
    }
}
