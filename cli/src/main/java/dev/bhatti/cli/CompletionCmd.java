package dev.bhatti.cli;

import picocli.AutoComplete;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.util.concurrent.Callable;

/** Shell completion scripts, generated from the command model itself (so they never drift from it). */
@Command(name = "completion", description = {"Print a shell completion script.",
        "bash: source <(bhatti completion bash)   zsh: the same in ~/.zshrc   fish: bhatti completion fish | source"},
        mixinStandardHelpOptions = true)
final class CompletionCmd implements Callable<Integer> {
    @Parameters(paramLabel = "SHELL", description = "bash, zsh or fish") String shell;
    @Spec CommandSpec spec;

    @Override
    public Integer call() throws CliException {
        CommandLine root = spec.root().commandLine();
        switch (shell) {
            // picocli's script serves zsh too, through bashcompinit
            case "bash" -> System.out.print(AutoComplete.bash("bhatti", root));
            case "zsh" -> System.out.print("autoload -U +X compinit && compinit\nautoload -U +X bashcompinit && bashcompinit\n"
                    + AutoComplete.bash("bhatti", root));
            case "fish" -> System.out.print(fish(root));
            default -> throw new CliException("unknown shell '" + shell + "'; use bash, zsh or fish");
        }
        return 0;
    }

    /** fish: subcommands complete after their parents, options after their command. */
    static String fish(CommandLine root) {
        var out = new StringBuilder("# bhatti completion for fish: bhatti completion fish | source\ncomplete -c bhatti -f\n");
        fishCommands(root, "", out);
        return out.toString();
    }

    private static void fishCommands(CommandLine cmd, String parents, StringBuilder out) {
        String condition = parents.isEmpty() ? "__fish_use_subcommand" : "__fish_seen_subcommand_from " + parents.strip();
        for (var e : cmd.getSubcommands().entrySet()) {
            if (!e.getKey().equals(e.getValue().getCommandName())) continue; // aliases complete as their command
            String desc = e.getValue().getCommandSpec().usageMessage().description().length > 0
                    ? e.getValue().getCommandSpec().usageMessage().description()[0] : "";
            out.append("complete -c bhatti -n '").append(condition).append("' -a ").append(e.getKey())
                    .append(" -d '").append(desc.replace("'", "\\'")).append("'\n");
            fishCommands(e.getValue(), parents.isEmpty() || cmd.getParent() == null ? e.getKey() : parents + " " + e.getKey(), out);
        }
        if (parents.isEmpty()) return;
        for (OptionSpec o : cmd.getCommandSpec().options()) {
            for (String name : o.names()) {
                if (!name.startsWith("--")) continue;
                out.append("complete -c bhatti -n '__fish_seen_subcommand_from ").append(cmd.getCommandName()).append("' -l ")
                        .append(name.substring(2)).append(o.arity().max() > 0 ? " -r" : "")
                        .append(" -d '").append(o.description().length > 0 ? o.description()[0].replace("'", "\\'") : "").append("'\n");
            }
        }
    }
}
