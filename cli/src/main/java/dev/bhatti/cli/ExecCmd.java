package dev.bhatti.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import tools.jackson.databind.JsonNode;

import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/** Runs a command in a sandbox; its stdout, stderr and exit code pass through. */
@Command(name = "exec", description = "Run a command in a sandbox: bhatti exec NAME -- CMD [ARGS...]",
        mixinStandardHelpOptions = true)
final class ExecCmd implements Callable<Integer> {
    /** Exit code when the command was killed for exceeding its timeout (as timeout(1) does). */
    static final int EXIT_TIMEOUT = 124;

    @Mixin ClientOptions opts;
    @Option(names = "--timeout", description = "Seconds before the command's process group is killed (default 300, max 86400)")
    Integer timeout;
    @Option(names = {"-e", "--env"}, description = "Environment variable KEY=VALUE (repeatable)") Map<String, String> env;
    @Option(names = {"-w", "--workdir"}, description = "Working directory in the guest (default /workspace)") String cwd;
    @Option(names = {"-u", "--user"}, description = "Guest user (default: uid 1000; 'root' for root)") String user;
    @Option(names = {"-i", "--stdin"}, description = "Send this process's standard input to the command") boolean stdin;
    @Option(names = {"-d", "--detach"}, description = "Start in the background and return; prints pid and output file") boolean detach;
    @Option(names = "--output-file", description = "With --detach: guest file for the output (default /tmp/bhatti-exec-<hex>.log)")
    String outputFile;
    @Parameters(index = "0", paramLabel = "SANDBOX", description = "Name or id") String sandbox;
    @Parameters(index = "1..*", paramLabel = "CMD", arity = "1..*", description = "Command and arguments") List<String> command;

    @Override
    public Integer call() throws Exception {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("cmd", command);
        if (timeout != null) body.put("timeout_sec", timeout);
        if (env != null) body.put("env", env);
        if (cwd != null) body.put("cwd", cwd);
        if (user != null) body.put("user", user);
        if (stdin) body.put("stdin", new String(System.in.readAllBytes(), StandardCharsets.UTF_8));
        String path = "/sandboxes/" + ApiClient.segment(sandbox) + "/exec";
        if (detach) {
            body.put("detach", true);
            if (outputFile != null) body.put("output_file", outputFile);
            JsonNode r = opts.client().post(path, body).body();
            if (opts.json) {
                Output.json(r);
            } else {
                System.out.println("pid: " + r.path("pid").asLong());
                System.out.println("output: " + r.path("output_file").asString());
            }
            return 0;
        }
        if (outputFile != null) throw new CliException("--output-file needs --detach");
        boolean terminal = System.console() != null && System.console().isTerminal();
        if (!opts.json && (terminal || "1".equals(System.getenv("BHATTI_FORCE_STREAM")))) {
            return streamed(path, body);
        }
        JsonNode r = opts.client().post(path, body).body();
        int code = r.path("exit_code").asInt(1);
        if (opts.json) {
            Output.json(r);
        } else {
            write(System.out, r.path("stdout").asString(""));
            write(System.err, r.path("stderr").asString(""));
            if (r.path("timed_out").asBoolean(false)) {
                System.err.println("bhatti: command timed out and was killed");
            }
        }
        return r.path("timed_out").asBoolean(false) ? EXIT_TIMEOUT : code;
    }

    /** Prints output as it arrives; the exit code comes last. */
    private int streamed(String path, Map<String, Object> body) throws CliException {
        int[] code = {1};
        opts.client().stream(path, body, event -> {
            switch (event.path("type").asString("")) {
                case "stdout" -> write(System.out, event.path("data").asString(""));
                case "stderr" -> write(System.err, event.path("data").asString(""));
                case "exit" -> {
                    code[0] = event.path("exit_code").asInt(1);
                    if (event.path("timed_out").asBoolean(false)) {
                        System.err.println("bhatti: command timed out and was killed");
                        code[0] = EXIT_TIMEOUT;
                    }
                }
                case "error" -> {
                    System.err.println("bhatti: " + event.path("data").asString("exec failed"));
                    code[0] = 1;
                }
                default -> { }
            }
        });
        return code[0];
    }

    private static void write(PrintStream out, String s) {
        out.print(s);
        out.flush();
    }
}
