package dev.bhatti.engine;

import java.util.List;

/** A session in a guest (a shell or a piped process that outlives its clients). */
public record GuestSession(String id, List<String> argv, boolean tty, boolean running, Integer exitCode, boolean attached,
                           long createdAtMillis) {
    public GuestSession { argv = List.copyOf(argv); }
}
