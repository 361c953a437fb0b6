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

    /** Linux refuses a single argument or environment string longer than this (MAX_ARG_STRLEN, NUL included). */
    public static final int MAX_STRING_BYTES = 128 * 1024;
    /** At most this many arguments, and as many environment variables, cross to the guest in one request. */
    public static final int MAX_ITEMS = 65_536;
    /** What argv and env may take together: one request frame to the agent, with room for the rest of it. */
    public static final int MAX_TOTAL_BYTES = 960 * 1024;

    /**
     * Null when the guest can run {@code argv} with {@code env}, else why not and what to do instead.
     * Checked before anything reaches the agent, so that a request the guest cannot honour is refused
     * as such (rather than failing at execve in the guest, or as a frame too large for the channel).
     */
    public static String beyondGuestLimits(List<String> argv, Map<String, String> env) {
        if (argv.size() > MAX_ITEMS) return "too many arguments (" + argv.size() + "); at most " + MAX_ITEMS
                + ": pass long lists through stdin or a file (xargs reads them from there)";
        if (env.size() > MAX_ITEMS) return "too many environment variables (" + env.size() + "); at most " + MAX_ITEMS;
        long total = 0;
        for (int i = 0; i < argv.size(); i++) {
            int bytes = utf8Length(argv.get(i));
            if (bytes >= MAX_STRING_BYTES) return "argument " + i + " is " + bytes + " bytes; Linux allows at most "
                    + (MAX_STRING_BYTES - 1) + " bytes per argument: pass large data through stdin or a file";
            total += bytes + 4;
        }
        for (var e : env.entrySet()) {
            int bytes = utf8Length(e.getKey()) + 1 + utf8Length(e.getValue());
            if (bytes >= MAX_STRING_BYTES) return "environment variable " + e.getKey() + " is " + bytes
                    + " bytes; Linux allows at most " + (MAX_STRING_BYTES - 1) + " bytes per variable: pass large data through a file";
            total += bytes + 8;
        }
        if (total > MAX_TOTAL_BYTES) return "the arguments and environment take " + total + " bytes; at most " + MAX_TOTAL_BYTES
                + ": pass large data through stdin or a file";
        return null;
    }

    private static int utf8Length(String s) {
        int n = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < 0x80) n++;
            else if (c < 0x800) n += 2;
            else if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) { n += 4; i++; }
            else n += 3;
        }
        return n;
    }

    public static ExecCommand of(String... argv) {
        return new ExecCommand(List.of(argv), Map.of(), "", "", Duration.ofMinutes(5), null);
    }
}
