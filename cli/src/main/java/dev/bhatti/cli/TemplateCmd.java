package dev.bhatti.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import tools.jackson.databind.JsonNode;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.concurrent.Callable;

/** Templates: saved create flags (bhatti create --template NAME starts from one). */
@Command(name = "template", description = {"Templates: saved create flags, per user.",
        "bhatti create --template NAME starts from one; flags given to create override it (env and labels merge by key)."},
        mixinStandardHelpOptions = true, subcommands = {TemplateCmd.Create.class, TemplateCmd.ListCmd.class, TemplateCmd.Inspect.class,
        TemplateCmd.Delete.class})
final class TemplateCmd {

    @Command(name = "create", description = "Save create's flags as template NAME (the image and secrets it names must exist).",
            mixinStandardHelpOptions = true)
    static final class Create extends CreateFlags implements Callable<Integer> {
        @Parameters(paramLabel = "NAME", description = "Template name (letters, digits, . _ -)") String name;

        @Override
        public Integer call() throws CliException {
            var body = new LinkedHashMap<String, Object>();
            body.put("name", name);
            body.putAll(body());
            JsonNode t = opts.client().post("/templates", body).body();
            if (opts.json) Output.json(t);
            else System.out.println("template/" + name + " created; use it with: bhatti create --template " + name);
            return 0;
        }
    }

    @Command(name = "list", aliases = "ls", description = "List your templates.", mixinStandardHelpOptions = true)
    static final class ListCmd implements Callable<Integer> {
        @Mixin ClientOptions opts;

        @Override
        public Integer call() throws CliException {
            JsonNode list = opts.client().get("/templates").body();
            if (opts.json) {
                Output.json(list);
                return 0;
            }
            var rows = new ArrayList<List<String>>();
            for (JsonNode t : list) {
                JsonNode spec = t.path("spec");
                rows.add(List.of(Output.text(t, "name"), Output.text(spec, "image"), Output.text(spec, "cpus"), Output.text(spec, "memory_mb"),
                        Output.age(t.path("created_at").asString(""))));
            }
            if (rows.isEmpty()) System.out.println("no templates; save one with: bhatti template create NAME --image minimal --cpus 2");
            else Output.table(List.of("NAME", "IMAGE", "CPUS", "MEMORY_MB", "AGE"), rows);
            return 0;
        }
    }

    @Command(name = "inspect", aliases = "info", description = "Show a template's saved fields.", mixinStandardHelpOptions = true)
    static final class Inspect implements Callable<Integer> {
        @Mixin ClientOptions opts;
        @Parameters(paramLabel = "NAME") String name;

        @Override
        public Integer call() throws CliException {
            JsonNode t = opts.client().get("/templates/" + ApiClient.segment(name)).body();
            if (opts.json) {
                Output.json(t);
                return 0;
            }
            System.out.printf("%-15s %s%n", "name:", Output.text(t, "name"));
            System.out.printf("%-15s %s%n", "created_at:", Output.text(t, "created_at"));
            t.path("spec").properties().forEach(e -> System.out.printf("%-15s %s%n", e.getKey() + ":",
                    e.getValue().isString() ? e.getValue().asString() : e.getKey().equals("files") ? e.getValue().size() + " file(s)" : e.getValue().toString()));
            return 0;
        }
    }

    @Command(name = "delete", aliases = "rm", description = "Delete a template (sandboxes made from it stay).", mixinStandardHelpOptions = true)
    static final class Delete implements Callable<Integer> {
        @Mixin ClientOptions opts;
        @Option(names = {"-y", "--yes"}, description = "Do not ask for confirmation") boolean yes;
        @Parameters(paramLabel = "NAME") String name;

        @Override
        public Integer call() throws CliException {
            if (!Confirm.proceed(yes, "delete template " + name, "delete template " + name + "?")) return 1;
            JsonNode r = opts.client().delete("/templates/" + ApiClient.segment(name)).body();
            if (opts.json) Output.json(r);
            else System.out.println("template/" + name + " deleted");
            return 0;
        }
    }
}
