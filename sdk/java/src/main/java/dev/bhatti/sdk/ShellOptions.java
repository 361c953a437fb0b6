package dev.bhatti.sdk;

/**
 * Which terminal {@link Sandbox#shell(ShellOptions)} opens and its size:
 * {@code ShellOptions.defaults().fresh().size(40, 120)}. By default the newest shell nobody is attached
 * to is reattached (a dropped connection never strands a shell), else a new {@code bash -li} starts.
 */
public final class ShellOptions {
    private String session;
    private boolean fresh;
    private int rows = 24;
    private int cols = 80;

    private ShellOptions() {}

    public static ShellOptions defaults() { return new ShellOptions(); }

    /** A new shell, even if a detached one is waiting. */
    public ShellOptions fresh() {
        this.fresh = true;
        this.session = null;
        return this;
    }

    /** Attaches to this session (an id from {@link Sandbox#sessions()} or {@link Shell#sessionId()}). */
    public ShellOptions session(String sessionId) {
        this.session = checkedSessionId(sessionId);
        this.fresh = false;
        return this;
    }

    /** The terminal's size (1 to 9999 each); {@link Shell#resize} changes it later. */
    public ShellOptions size(int rows, int cols) {
        this.rows = Validate.range("rows", rows, 1, 9999);
        this.cols = Validate.range("cols", cols, 1, 9999);
        return this;
    }

    /** The query of {@code /sandboxes/{id}/ws}. */
    String query() {
        var q = new StringBuilder("rows=").append(rows).append("&cols=").append(cols);
        if (fresh) q.append("&new=true");
        if (session != null) q.append("&session=").append(Transport.segment(session));
        return q.toString();
    }

    static String checkedSessionId(String id) {
        Validate.name("session id", id);
        if (!id.matches("s[0-9]{1,9}|init")) throw new IllegalArgumentException("a session id is s<number> or init, got " + Validate.printable(id));
        return id;
    }
}
