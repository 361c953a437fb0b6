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
    @Parameters(index = "0", paramLabel = "SANDBOX", description = "Name or id") String sandbox;
    @Parameters(index = "1..*", paramLabel = "CMD", arity = "1..*", description = "Command and arguments") List<String> command;

    @Override
    public Integer call() throws Exception {
        var body = new LinkedHashMap<String, Object>();
        body.put("cmd", command);
        if (timeout != null) body.put("timeout_sec", timeout);
        if (env != null) body.put("env", env);
        if (cwd != null) body.put("cwd", cwd);
        if (user != null) body.put("user", user);
        if (stdin) body.put("stdin", new String(System.in.readAllBytes(), StandardCharsets.UTF_8));
        JsonNode r = opts.client().post("/sandboxes/" + ApiClient.segment(sandbox) + "/exec", body).body();
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

    private static void write(PrintStream out, String s) {
        out.print(s);
        out.flush();
    }
}
