package dev.bhatti.cli;

import dev.bhatti.images.TierBuilder;
import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.util.List;
import java.io.PrintWriter;
import java.io.StringWriter;

/**
 * Entry point: {@code bhatti serve} runs the daemon, every other command is a client of it.
 * Subcommands are registered by {@link Subcommands}, only the one that runs when that is enough.
 */
@Command(name = "bhatti", mixinStandardHelpOptions = true, version = "bhatti 0.1.0",
        description = "Self-hosted microVM sandboxes.",
        footer = {"", "Exit codes: 0 done; 1 the command failed (the daemon refused it, or it could not be reached: the message says"
                + " why and what to do); 2 bad usage (an unknown command or option, a missing or malformed argument; also with"
                + " --help); exec passes the command's own exit code through, 124 when it timed out and was killed."})
public final class BhattiCli {

    public static void main(String[] args) {
        int code = run(args);
        if (args.length > 0 && args[0].equals("serve")) System.exit(code);
        // A client is done once its output is out. System.exit would first start the JDK's System.Logger (to
        // log the exit at debug level), which loads java.util.logging and reads its configuration: some 15 ms
        // of every command. Client commands leave no shutdown hook behind (forward's and a followed task's
        // serve Ctrl-C, which still runs them).
        System.out.flush();
        System.err.flush();
        Runtime.getRuntime().halt(code);
    }

    /**
     * Runs the command unless words were left over: with --help among them picocli prints the nearest command's
     * help and exits 0 ({@code bhatti nosuchcommand --help}), so a script could not tell the command is missing.
     * Left-over words are bad usage then too: exit 2, naming them, with suggestions.
     */
    private static int refuseUnmatched(CommandLine.ParseResult parsed) {
        for (CommandLine.ParseResult p = parsed; p != null; p = p.subcommand()) {
            if (!p.unmatched().isEmpty()) throw new CommandLine.UnmatchedArgumentException(p.commandSpec().commandLine(), p.unmatched());
        }
        return new CommandLine.RunLast().execute(parsed);
    }

    /** picocli's message, except that a word where a command goes is called what it is: an unknown command. */
    private static String message(CommandLine.ParameterException e) {
        var spec = e.getCommandLine().getCommandSpec();
        if (e instanceof CommandLine.UnmatchedArgumentException u && !spec.subcommands().isEmpty() && !u.getUnmatched().isEmpty()
                && !u.getUnmatched().getFirst().startsWith("-")) {
            return "unknown command '" + u.getUnmatched().getFirst() + "' (" + spec.qualifiedName() + " --help lists the commands)";
        }
        return e.getMessage();
    }

    /** Runs one command line and returns its exit code. */
    static int run(String[] args) {
        boolean serve = args.length > 0 && args[0].equals("serve");
        if (!serve) {
            // The client path needs no logging back end; skipping Logback saves start-up time.
            System.setProperty("slf4j.provider", "org.slf4j.helpers.NOP_FallbackServiceProvider");
            // else SLF4J reports that choice on stderr, mixed into the command's output
            System.setProperty("slf4j.internal.verbosity", "WARN");
        }
        var cli = Subcommands.commandLine(args);
        cli.setExecutionExceptionHandler((e, cmd, parsed) -> {
            // errors that say what to do next, and a daemon that cannot set up its network (say, a clashing pool)
            if (e instanceof CliException || e instanceof TierBuilder.BuildException || e instanceof IllegalArgumentException
                    || e instanceof IllegalStateException) {
                cmd.getErr().println("bhatti: " + Redact.secrets(e.getMessage(), args));
                return 1;
            }
            throw e;
        });
        // picocli quotes what it could not parse, which may be the key after a misplaced --token
        cli.setParameterExceptionHandler((e, given) -> {
            var text = new StringWriter();
            var out = new PrintWriter(text);
            out.println(message(e));
            if (!CommandLine.UnmatchedArgumentException.printSuggestions(e, out)) e.getCommandLine().usage(out);
            out.flush();
            var err = e.getCommandLine().getErr();
            var unknown = e instanceof CommandLine.UnmatchedArgumentException u ? Redact.unknownOptionValues(u.getUnmatched()) : List.<String>of();
            err.print(Redact.secrets(text.toString(), args, unknown));
            err.flush();
            return e.getCommandLine().getCommandSpec().exitCodeOnInvalidInput();
        });
        cli.setExecutionStrategy(BhattiCli::refuseUnmatched);
        int code = cli.execute(args);
        cli.getOut().flush(); // help and version text
        cli.getErr().flush();
        return code;
    }
}
