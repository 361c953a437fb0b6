package dev.bhatti.cli;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The command tree as users meet it: help everywhere, --json where there is output, completions that parse. */
class CliSurfaceTest {

    static List<CommandLine> all(CommandLine c) {
        var out = new ArrayList<CommandLine>();
        out.add(c);
        for (var e : c.getSubcommands().entrySet()) if (e.getKey().equals(e.getValue().getCommandName())) out.addAll(all(e.getValue()));
        return out;
    }

    @Test
    void everyCommandHasHelpAndEveryLeafThatTalksToTheServerHasJson() {
        var root = Subcommands.whole();
        for (CommandLine c : all(root)) {
            String path = c.getCommandSpec().qualifiedName();
            assertThat(c.getCommandSpec().optionsMap()).as(path + " --help").containsKey("--help");
            assertThat(c.getCommandSpec().usageMessage().description()).as(path + " has a description").isNotEmpty();
            boolean leaf = c.getSubcommands().isEmpty();
            boolean exempt = List.of("bhatti serve", "bhatti completion", "bhatti help", "bhatti shell", "bhatti forward", "bhatti tier build",
                    // update streams the installer's progress, as tier build streams its build; mcp speaks MCP (JSON) on stdout
                    "bhatti update", "bhatti mcp")
                    .contains(path) || path.startsWith("bhatti file read") || path.startsWith("bhatti tier");
            if (leaf && !exempt) assertThat(c.getCommandSpec().optionsMap()).as(path + " --json").containsKey("--json");
        }
    }

    @Test
    void completionScriptsForBashAndFishParse() throws Exception {
        for (String shell : List.of("bash", "fish")) {
            var out = new StringWriter();
            var cli = Subcommands.whole();
            var original = System.out;
            var buffer = new java.io.ByteArrayOutputStream();
            System.setOut(new java.io.PrintStream(buffer, true, java.nio.charset.StandardCharsets.UTF_8));
            try {
                cli.setOut(new PrintWriter(out));
                assertThat(cli.execute("completion", shell)).isZero();
            } finally {
                System.setOut(original);
            }
            String script = buffer.toString(java.nio.charset.StandardCharsets.UTF_8);
            assertThat(script).contains("snapshot").contains("secret").contains("user");
            if (shell.equals("bash")) {
                Path f = Files.createTempFile("bhatti-completion", ".bash");
                Files.writeString(f, script);
                Process p = new ProcessBuilder("bash", "-n", f.toString()).redirectErrorStream(true).start();
                String err = new String(p.getInputStream().readAllBytes());
                assertThat(p.waitFor()).as(err).isZero();
                Files.delete(f);
            } else {
                assertThat(script).contains("complete -c bhatti -n '__fish_seen_subcommand_from snapshot' -a resume");
            }
        }
        assertThat(Subcommands.whole().execute("completion", "tcsh")).isNotZero();
    }

    @Test
    void theSubcommandTableNamesEachCommandAsItsAnnotationDoes() {
        for (var e : Subcommands.ALL) {
            var spec = new CommandLine(e.command().get()).getCommandSpec();
            var names = new ArrayList<String>();
            names.add(spec.name());
            names.addAll(List.of(spec.aliases()));
            assertThat(e.names()).as(spec.name()).isEqualTo(names);
        }
    }

    @Test
    void aClientCommandRegistersOnlyItselfWhileHelpAndUnknownInputSeeTheWholeTree() {
        assertThat(Subcommands.commandLine(new String[] {"ls", "--json"}).getSubcommands()).containsOnlyKeys("list", "ls");
        assertThat(Subcommands.commandLine(new String[] {"snapshot", "ls"}).getSubcommands()).containsOnlyKeys("snapshot");
        assertThat(Subcommands.commandLine(new String[] {"--version"}).getSubcommands()).isEmpty();
        int whole = Subcommands.whole().getSubcommands().size();
        for (String[] args : List.of(new String[0], new String[] {"--help"}, new String[] {"help", "list"},
                new String[] {"completion", "bash"}, new String[] {"lst"},
                new String[] {"--version", "list"})) {
            assertThat(Subcommands.commandLine(args).getSubcommands()).as(String.join(" ", args)).hasSize(whole);
        }
    }
}
