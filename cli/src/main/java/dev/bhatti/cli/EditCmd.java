package dev.bhatti.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import tools.jackson.databind.JsonNode;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.concurrent.Callable;

/** Changes a sandbox in place: keep-hot, labels, its name (PATCH /sandboxes/{id}). */
@Command(name = "edit", description = {"Change a sandbox: keep it hot or not, set or remove labels, rename it.",
        "A rename keeps its id, forwards and published aliases (and the guest's own hostname); your other sandboxes resolve the new name."}, mixinStandardHelpOptions = true)
final class EditCmd implements Callable<Integer> {
    @Mixin ClientOptions opts;
    @Parameters(paramLabel = "SANDBOX", description = "Name or id") String sandbox;
    @Option(names = "--keep-hot", arity = "1", paramLabel = "true|false", description = "Never pause or snapshot it when idle (true also wakes it)")
    Boolean keepHot;
    @Option(names = {"-l", "--label"}, paramLabel = "KEY=VALUE", description = "Set a label (repeatable)") List<String> labels;
    @Option(names = "--unlabel", paramLabel = "KEY", description = "Remove a label (repeatable)") List<String> unlabels;
    @Option(names = "--name", paramLabel = "NEW", description = "Rename it (letters, digits, . _ -)") String name;

    @Override
    public Integer call() throws CliException {
        var body = new LinkedHashMap<String, Object>();
        if (keepHot != null) body.put("keep_hot", keepHot);
        if (labels != null || unlabels != null) {
            var changes = new LinkedHashMap<String, String>();
            if (unlabels != null) for (String k : unlabels) changes.put(k, null);
            if (labels != null) changes.putAll(Labels.parse(labels));
            body.put("labels", changes);
        }
        if (name != null) body.put("name", name);
        if (body.isEmpty()) throw new CliException("nothing to change: give --keep-hot, --label, --unlabel or --name");
        JsonNode s = opts.client().send("PATCH", "/sandboxes/" + ApiClient.segment(sandbox), body).body();
        if (opts.json) {
            Output.json(s);
        } else {
            System.out.println("sandbox/" + Output.text(s, "name") + " edited (keep_hot " + Output.text(s, "keep_hot")
                    + ", labels " + Labels.text(s) + ")");
        }
        return 0;
    }
}
