package dev.bhatti.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import tools.jackson.databind.JsonNode;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/** Sessions of a sandbox (shells, piped sessions), and killing one. */
@Command(name = "ps", description = "List a sandbox's sessions, or kill one with --kill.", mixinStandardHelpOptions = true)
final class PsCmd implements Callable<Integer> {
    @Mixin ClientOptions opts;
    @Parameters(paramLabel = "SANDBOX", description = "Name or id") String sandbox;
    @Option(names = "--kill", paramLabel = "SESSION", description = "Signal this session's process group") String kill;
    @Option(names = "--signal", description = "Signal number for --kill (default 9)") Integer signal;

    @Override
    public Integer call() throws CliException {
        String base = "/sandboxes/" + ApiClient.segment(sandbox) + "/sessions";
        if (kill != null) {
            JsonNode r = opts.client().delete(base + "/" + ApiClient.segment(kill) + (signal == null ? "" : "?signal=" + signal)).body();
            if (opts.json) Output.json(r);
            else System.out.println("session " + kill + " signalled (" + r.path("signal").asInt() + ")");
            return 0;
        }
        JsonNode list = opts.client().get(base).body();
        if (opts.json) {
            Output.json(list);
            return 0;
        }
        var rows = new ArrayList<List<String>>();
        for (JsonNode s : list) {
            var argv = new StringBuilder();
            s.path("argv").forEach(a -> argv.append(argv.isEmpty() ? "" : " ").append(a.asString()));
            rows.add(List.of(s.path("session_id").asString(), argv.toString(), s.path("tty").asBoolean() ? "yes" : "no",
                    s.path("running").asBoolean() ? "yes" : "no", s.path("exit_code").isNull() ? "-" : s.path("exit_code").asString(),
                    s.path("attached").asBoolean() ? "yes" : "no", Output.age(s.path("created_at").asString(""))));
        }
        if (rows.isEmpty()) System.out.println("no sessions; open one with: bhatti shell " + sandbox);
        else Output.table(List.of("ID", "COMMAND", "TTY", "RUNNING", "EXIT", "ATTACHED", "AGE"), rows);
        return 0;
    }
}
