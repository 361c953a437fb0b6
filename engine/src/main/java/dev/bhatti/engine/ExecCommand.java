package dev.bhatti.engine;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/** One command to run in a guest. {@code user} empty = the default uid 1000; {@code stdin} may be null. */
public record ExecCommand(List<String> argv, Map<String, String> env, String cwd, String user,
                          Duration timeout, byte[] stdin) {
    public ExecCommand {
        argv = List.copyOf(argv);
        env = Map.copyOf(env);
        Objects.requireNonNull(cwd);
        Objects.requireNonNull(user);
        Objects.requireNonNull(timeout);
        if (argv.isEmpty()) throw new IllegalArgumentException("argv must not be empty");
    }

    public static ExecCommand of(String... argv) {
        return new ExecCommand(List.of(argv), Map.of(), "", "", Duration.ofMinutes(5), null);
    }
}
