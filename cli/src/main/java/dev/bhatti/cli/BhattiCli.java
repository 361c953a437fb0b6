package dev.bhatti.cli;

import dev.bhatti.images.TierBuilder;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** Entry point: {@code bhatti serve} runs the daemon, every other command is a client of it. */
@Command(name = "bhatti", mixinStandardHelpOptions = true, version = "bhatti 0.1.0",
        description = "Self-hosted microVM sandboxes.",
        subcommands = {ServeCmd.class, SetupCmd.class, SandboxCommands.Create.class, SandboxCommands.ListCmd.class,
                SandboxCommands.Inspect.class, ExecCmd.class, ShellCmd.class, PsCmd.class, FileCmd.class, ForwardCmd.class, PublishCmd.Publish.class, PublishCmd.Unpublish.class, ShareCmd.class, SandboxCommands.Destroy.class,
                ThermalCommands.Stop.class, ThermalCommands.Start.class, ThermalCommands.Pause.class, ThermalCommands.Resume.class, SnapshotCmd.class, SecretCmd.class, UserCmd.class, AdminCmd.class, VersionCmd.class, CompletionCmd.class, TierCmd.class,
                CommandLine.HelpCommand.class})
public final class BhattiCli {

    public static void main(String[] args) {
        boolean serve = args.length > 0 && args[0].equals("serve");
        if (!serve) {
            // The client path needs no logging back end; skipping Logback saves start-up time.
            System.setProperty("slf4j.provider", "org.slf4j.helpers.NOP_FallbackServiceProvider");
            // else SLF4J reports that choice on stderr, mixed into the command's output
            System.setProperty("slf4j.internal.verbosity", "WARN");
        }
        var cli = new CommandLine(new BhattiCli());
        cli.setExecutionExceptionHandler((e, cmd, parsed) -> {
            if (e instanceof CliException || e instanceof TierBuilder.BuildException || e instanceof IllegalArgumentException
                    || e instanceof IllegalStateException) {
                cmd.getErr().println("bhatti: " + e.getMessage());
                return 1;
            }
            throw e;
        });
        System.exit(cli.execute(args));
    }
}
