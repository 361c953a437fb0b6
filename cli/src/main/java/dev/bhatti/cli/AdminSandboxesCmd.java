package dev.bhatti.cli;

import dev.bhatti.server.store.SandboxRecord;
import dev.bhatti.server.store.SandboxStatus;
import dev.bhatti.server.store.UserRecord;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import tools.jackson.databind.node.ArrayNode;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/** Every user's sandboxes, from the data directory: what the uninstaller and an operator look at. */
@Command(name = "sandboxes", description = "Every user's sandboxes with their status, read from the data directory (run on the server).",
        mixinStandardHelpOptions = true)
final class AdminSandboxesCmd implements Callable<Integer> {
    @Mixin LocalStore local;

    @Option(names = "--running", description = "Only those whose VM runs (hot or warm)") boolean running;

    record Row(String user, String name, String id, SandboxStatus status) {}

    @Override
    public Integer call() throws CliException {
        List<Row> rows = local.open(store -> {
            Map<String, String> users = new HashMap<>();
            for (UserRecord u : store.users()) users.put(u.id(), u.name());
            var out = new ArrayList<Row>();
            for (SandboxRecord s : store.allSandboxes()) {
                if (running && s.status() != SandboxStatus.RUNNING) continue;
                out.add(new Row(users.getOrDefault(s.userId(), s.userId()), s.name(), s.id(), s.status()));
            }
            return out;
        });
        if (local.json) {
            ArrayNode a = ApiClient.JSON.createArrayNode();
            for (Row r : rows) a.addObject().put("user", r.user()).put("name", r.name()).put("id", r.id()).put("status", r.status().wire());
            Output.json(a);
        } else if (rows.isEmpty()) {
            System.out.println(running ? "no running sandboxes" : "no sandboxes");
        } else {
            Output.table(List.of("USER", "NAME", "ID", "STATUS"),
                    rows.stream().map(r -> List.of(r.user(), r.name(), r.id(), r.status().wire())).toList());
        }
        return 0;
    }
}
