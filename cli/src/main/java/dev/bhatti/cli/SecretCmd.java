package dev.bhatti.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import tools.jackson.databind.JsonNode;

import java.io.Console;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/** Secrets: values kept encrypted on the server and given to sandboxes as environment variables. */
@Command(name = "secret", description = {"Secrets: encrypted on the server, given to sandboxes as environment variables.",
        "Create a sandbox with --secret NAME to see it as $NAME inside; values are never shown again."},
        mixinStandardHelpOptions = true, subcommands = {SecretCmd.Set.class, SecretCmd.ListCmd.class, SecretCmd.Delete.class})
final class SecretCmd {

    @Command(name = "set", description = "Set a secret; the value is read from stdin (or typed, hidden, at a terminal).",
            mixinStandardHelpOptions = true)
    static final class Set implements Callable<Integer> {
        @Mixin ClientOptions opts;
        @Parameters(paramLabel = "NAME", description = "Secret name, also the variable name (letters, digits, _)") String name;

        @Override
        public Integer call() throws CliException {
            String value;
            Console console = System.console();
            if (console != null && console.isTerminal()) {
                char[] typed = console.readPassword("value for %s (hidden): ", name);
                if (typed == null) throw new CliException("no value given");
                value = new String(typed);
            } else {
                try {
                    value = new String(System.in.readAllBytes(), StandardCharsets.UTF_8);
                } catch (IOException e) {
                    throw new CliException("cannot read the value from stdin: " + e.getMessage());
                }
                if (value.endsWith("\n")) value = value.substring(0, value.length() - (value.endsWith("\r\n") ? 2 : 1));
            }
            var reply = opts.client().post("/secrets", Map.of("name", name, "value", value));
            if (opts.json) Output.json(reply.body());
            else System.out.println("secret/" + name + (reply.status() == 201 ? " created" : " updated"));
            return 0;
        }
    }

    @Command(name = "list", aliases = "ls", description = "List your secrets (names only).", mixinStandardHelpOptions = true)
    static final class ListCmd implements Callable<Integer> {
        @Mixin ClientOptions opts;

        @Override
        public Integer call() throws CliException {
            JsonNode list = opts.client().get("/secrets").body();
            if (opts.json) {
                Output.json(list);
                return 0;
            }
            var rows = new ArrayList<List<String>>();
            for (JsonNode s : list) {
                rows.add(List.of(Output.text(s, "name"), Output.age(s.path("created_at").asString("")),
                        Output.age(s.path("updated_at").asString(""))));
            }
            if (rows.isEmpty()) System.out.println("no secrets; set one with: printf %s VALUE | bhatti secret set NAME");
            else Output.table(List.of("NAME", "CREATED", "UPDATED"), rows);
            return 0;
        }
    }

    @Command(name = "delete", aliases = "rm", description = "Delete a secret (running sandboxes keep what they were given).",
            mixinStandardHelpOptions = true)
    static final class Delete implements Callable<Integer> {
        @Mixin ClientOptions opts;
        @Option(names = {"-y", "--yes"}, description = "Do not ask for confirmation") boolean yes;
        @Parameters(paramLabel = "NAME", description = "Secret name") String name;

        @Override
        public Integer call() throws CliException {
            if (!Confirm.proceed(yes, "delete secret " + name, "delete secret " + name + "?")) return 1;
            JsonNode r = opts.client().delete("/secrets/" + ApiClient.segment(name)).body();
            if (opts.json) Output.json(r);
            else System.out.println("secret/" + name + " deleted");
            return 0;
        }
    }
}
