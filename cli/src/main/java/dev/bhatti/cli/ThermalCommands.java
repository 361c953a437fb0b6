package dev.bhatti.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import tools.jackson.databind.JsonNode;

import java.util.Map;
import java.util.concurrent.Callable;

/** stop, start, pause and resume: moving a sandbox between hot, warm and cold by hand. */
final class ThermalCommands {
    private ThermalCommands() {}

    static Integer transition(ClientOptions opts, String sandbox, String action, Object body, String done) throws CliException {
        JsonNode s = opts.client().post("/sandboxes/" + ApiClient.segment(sandbox) + "/" + action, body).body();
        if (opts.json) Output.json(s);
        else System.out.println("sandbox/" + Output.text(s, "name") + " " + done + " (" + Output.text(s, "status")
                + (s.path("thermal").asString("").isEmpty() ? "" : ", " + s.path("thermal").asString()) + ")");
        return 0;
    }

    @Command(name = "stop", description = {"Snapshot a sandbox to disk (memory, processes, files) and free its memory.",
            "It resumes exactly where it was with 'bhatti start', or by itself on the next request."},
            mixinStandardHelpOptions = true)
    static final class Stop implements Callable<Integer> {
        @Mixin ClientOptions opts;
        @Parameters(paramLabel = "SANDBOX", description = "Name or id") String sandbox;

        @Override
        public Integer call() throws CliException { return transition(opts, sandbox, "stop", Map.of(), "stopped"); }
    }

    @Command(name = "start", description = "Resume a stopped sandbox where it was.", mixinStandardHelpOptions = true)
    static final class Start implements Callable<Integer> {
        @Mixin ClientOptions opts;
        @Option(names = "--force", description = "If its snapshot is missing or unusable, boot it afresh from its disk (memory is lost)")
        boolean force;
        @Parameters(paramLabel = "SANDBOX", description = "Name or id") String sandbox;

        @Override
        public Integer call() throws CliException { return transition(opts, sandbox, "start", Map.of("force", force), "started"); }
    }

    @Command(name = "pause", description = "Stop a sandbox's CPUs, keeping its memory (warm); any request resumes it.",
            mixinStandardHelpOptions = true)
    static final class Pause implements Callable<Integer> {
        @Mixin ClientOptions opts;
        @Parameters(paramLabel = "SANDBOX", description = "Name or id") String sandbox;

        @Override
        public Integer call() throws CliException { return transition(opts, sandbox, "pause", Map.of(), "paused"); }
    }

    @Command(name = "resume", description = "Run a paused sandbox again.", mixinStandardHelpOptions = true)
    static final class Resume implements Callable<Integer> {
        @Mixin ClientOptions opts;
        @Parameters(paramLabel = "SANDBOX", description = "Name or id") String sandbox;

        @Override
        public Integer call() throws CliException { return transition(opts, sandbox, "resume", Map.of(), "resumed"); }
    }
}
