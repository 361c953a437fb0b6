package dev.bhatti.engine;

import java.util.List;
import java.util.Map;

/** How to get a session: start a new one, or attach to one that exists. */
public sealed interface SessionOpen {

    /**
     * A new session; {@code id} names it ("" = the guest picks one); {@code maxIdleSeconds} bounds how long
     * it may stay detached (0 = forever).
     */
    record Start(String id, List<String> argv, Map<String, String> env, String cwd, String user, boolean tty, int rows, int cols,
                 long maxIdleSeconds) implements SessionOpen {
        public Start {
            argv = List.copyOf(argv);
            env = Map.copyOf(env);
            if (argv.isEmpty()) throw new IllegalArgumentException("argv must not be empty");
        }
    }

    /** An existing session; with {@code ifDetached} an attached session is refused rather than taken over. */
    record Attach(String sessionId, boolean ifDetached) implements SessionOpen {}
}
