package dev.bhatti.cli;

import picocli.CommandLine;

import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * The top-level commands, in the order help lists them. Building picocli's model of one command
 * means reflecting over its class and annotations, so a client command registers only itself;
 * the whole tree is built for the root's help, {@code help}, {@code completion} and unknown input.
 * {@code CliSurfaceTest} checks that the names here match the annotations.
 */
final class Subcommands {
    private Subcommands() {}

    record Entry(List<String> names, Supplier<Object> command) {}

    static final List<Entry> ALL = List.of(
            new Entry(List.of("serve"), ServeCmd::new),
            new Entry(List.of("setup"), SetupCmd::new),
            new Entry(List.of("create"), SandboxCommands.Create::new),
            new Entry(List.of("list", "ls"), SandboxCommands.ListCmd::new),
            new Entry(List.of("inspect", "info"), SandboxCommands.Inspect::new),
            new Entry(List.of("edit"), EditCmd::new),
            new Entry(List.of("exec"), ExecCmd::new),
            new Entry(List.of("shell", "sh"), ShellCmd::new),
            new Entry(List.of("ps"), PsCmd::new),
            new Entry(List.of("file"), FileCmd::new),
            new Entry(List.of("forward"), ForwardCmd::new),
            new Entry(List.of("ports"), PortsCmd::new),
            new Entry(List.of("desktop"), DesktopCmd::new),
            new Entry(List.of("publish"), PublishCmd.Publish::new),
            new Entry(List.of("unpublish"), PublishCmd.Unpublish::new),
            new Entry(List.of("share"), ShareCmd::new),
            new Entry(List.of("destroy", "rm"), SandboxCommands.Destroy::new),
            new Entry(List.of("stop"), ThermalCommands.Stop::new),
            new Entry(List.of("start"), ThermalCommands.Start::new),
            new Entry(List.of("pause"), ThermalCommands.Pause::new),
            new Entry(List.of("resume"), ThermalCommands.Resume::new),
            new Entry(List.of("snapshot"), SnapshotCmd::new),
            new Entry(List.of("secret"), SecretCmd::new),
            new Entry(List.of("template"), TemplateCmd::new),
            new Entry(List.of("user"), UserCmd::new),
            new Entry(List.of("admin"), AdminCmd::new),
            new Entry(List.of("update"), UpdateCmd::new),
            new Entry(List.of("version"), VersionCmd::new),
            new Entry(List.of("completion"), CompletionCmd::new),
            new Entry(List.of("tier"), TierCmd::new),
            new Entry(List.of("image"), ImageCmd::new),
            new Entry(List.of("volume"), VolumeCmd::new),
            new Entry(List.of("mcp"), McpCmd::new),
            new Entry(List.of("help"), CommandLine.HelpCommand::new));

    /** Commands that read the whole tree (the root's own help and completion scripts). */
    private static final List<String> NEED_WHOLE_TREE = List.of("help", "completion");

    /**
     * The command line for {@code args}: the root with only the command that {@code args} name, if they name one;
     * no command for a lone {@code --version}.
     */
    static CommandLine commandLine(String[] args) {
        var root = new CommandLine(new BhattiCli());
        if (args.length == 1 && (args[0].equals("--version") || args[0].equals("-V"))) return root;
        var only = args.length == 0 ? Optional.<Entry>empty() : find(args[0]);
        for (Entry e : only.map(List::of).orElse(ALL)) root.addSubcommand(e.command().get());
        return root;
    }

    /** The whole tree, as help and completion see it. */
    static CommandLine whole() { return commandLine(new String[0]); }

    private static Optional<Entry> find(String name) {
        if (NEED_WHOLE_TREE.contains(name)) return Optional.empty();
        return ALL.stream().filter(e -> e.names().contains(name)).findFirst();
    }
}
