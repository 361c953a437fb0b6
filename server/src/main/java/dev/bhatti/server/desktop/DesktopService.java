package dev.bhatti.server.desktop;

import dev.bhatti.engine.ExecCommand;
import dev.bhatti.engine.ExecListener;
import dev.bhatti.engine.ExecResult;
import dev.bhatti.server.error.DomainException;
import dev.bhatti.server.sandbox.SandboxService;
import dev.bhatti.server.store.SandboxRecord;
import dev.bhatti.server.store.UserRecord;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A sandbox's desktop, driven through the helpers its image ships in /usr/local/bin (the computer tier's
 * screenshot, screen-size, desktop-click, desktop-move, desktop-type, desktop-key), run over the agent
 * channel: no VNC involved. A sandbox whose image has no helpers has no display (409); the helpers' own
 * exit codes say whether the request was bad (2, 3: 400) or the desktop is not up (4: 409).
 */
public final class DesktopService {
    static final String BIN = "/usr/local/bin/";
    /** A PNG of a large screen is a few MB; more means something else is writing to stdout. */
    static final int MAX_SCREENSHOT_BYTES = 32 * 1024 * 1024;
    private static final Duration TIMEOUT = Duration.ofSeconds(120);

    private final SandboxService sandboxes;

    public DesktopService(SandboxService sandboxes) { this.sandboxes = sandboxes; }

    /** The whole screen as PNG bytes. */
    public byte[] screenshot(UserRecord user, String idOrName) {
        SandboxRecord s = sandboxes.get(user, idOrName);
        byte[] png = run(user, s, List.of(BIN + "screenshot"), MAX_SCREENSHOT_BYTES);
        if (png.length < 8 || (png[0] & 0xff) != 0x89 || png[1] != 'P' || png[2] != 'N' || png[3] != 'G') {
            throw DomainException.sandboxFailed("the screenshot of sandbox " + s.name() + " is not a PNG (" + png.length + " bytes)");
        }
        return png;
    }

    public Desktop.Size size(UserRecord user, String idOrName) {
        SandboxRecord s = sandboxes.get(user, idOrName);
        String out = new String(run(user, s, List.of(BIN + "screen-size"), 1024), StandardCharsets.UTF_8).trim();
        String[] wh = out.split("x");
        try {
            return new Desktop.Size(Integer.parseInt(wh[0]), Integer.parseInt(wh[1]));
        } catch (RuntimeException e) {
            throw DomainException.sandboxFailed("screen-size in sandbox " + s.name() + " answered '" + Desktop.printable(out) + "'");
        }
    }

    /** Clicks {@code button} (left when null) at x,y; answers the button clicked. */
    public Desktop.Button click(UserRecord user, String idOrName, Integer x, Integer y, String button, boolean doubleClick) {
        int cx = Desktop.coordinate(x, "x"), cy = Desktop.coordinate(y, "y");
        Desktop.Button b = Desktop.Button.parse(button);
        var argv = new ArrayList<>(List.of(BIN + "desktop-click", Integer.toString(cx), Integer.toString(cy), b.arg));
        if (doubleClick) argv.add("--double");
        run(user, sandboxes.get(user, idOrName), argv, 64 * 1024);
        return b;
    }

    public void move(UserRecord user, String idOrName, Integer x, Integer y) {
        int cx = Desktop.coordinate(x, "x"), cy = Desktop.coordinate(y, "y");
        run(user, sandboxes.get(user, idOrName), List.of(BIN + "desktop-move", Integer.toString(cx), Integer.toString(cy)), 64 * 1024);
    }

    /** Types {@code text} into the focused window (given on stdin: no argument limits, nothing in ps). */
    public void type(UserRecord user, String idOrName, String text) {
        byte[] stdin = Desktop.text(text).getBytes(StandardCharsets.UTF_8);
        run(user, sandboxes.get(user, idOrName), List.of(BIN + "desktop-type", "-"), stdin, 64 * 1024);
    }

    public void key(UserRecord user, String idOrName, String keys) {
        var argv = new ArrayList<>(List.of(BIN + "desktop-key"));
        argv.addAll(List.of(Desktop.keys(keys)));
        run(user, sandboxes.get(user, idOrName), argv, 64 * 1024);
    }

    private byte[] run(UserRecord user, SandboxRecord s, List<String> argv, int maxStdout) {
        return run(user, s, argv, null, maxStdout);
    }

    private byte[] run(UserRecord user, SandboxRecord s, List<String> argv, byte[] stdin, int maxStdout) {
        var out = new Collected(maxStdout);
        ExecResult r = sandboxes.exec(user, s.id(), new ExecCommand(argv, Map.of(), "", "", TIMEOUT, stdin), out);
        String helper = argv.getFirst().substring(BIN.length());
        String err = out.stderr().trim();
        if (r.timedOut()) throw DomainException.sandboxFailed(helper + " in sandbox " + s.name() + " did not finish within " + TIMEOUT.toSeconds() + " s");
        switch (r.exitCode()) {
            case 0 -> { }
            case 127 -> throw DomainException.conflict("sandbox " + s.name() + " has no display (create it with --image computer)");
            case 2, 3 -> throw DomainException.invalid(err.isEmpty() ? helper + " refused the request" : err);
            case 4 -> throw DomainException.conflict("the desktop of sandbox " + s.name() + " is not up (yet): " + err);
            default -> throw DomainException.sandboxFailed(helper + " failed in sandbox " + s.name() + " (exit " + r.exitCode() + ")"
                    + (err.isEmpty() ? "" : ": " + Desktop.printable(err.lines().reduce((a, b) -> b).orElse(err))));
        }
        if (out.overflow) throw DomainException.sandboxFailed(helper + " in sandbox " + s.name() + " wrote more than " + maxStdout + " bytes");
        return out.stdout.toByteArray();
    }

    /** stdout up to a limit, and the end of stderr (for messages). */
    private static final class Collected implements ExecListener {
        final ByteArrayOutputStream stdout = new ByteArrayOutputStream();
        final ByteArrayOutputStream stderr = new ByteArrayOutputStream();
        final int max;
        boolean overflow;

        Collected(int max) { this.max = max; }

        @Override
        public void stdout(byte[] b) {
            if (stdout.size() + b.length > max) overflow = true;
            else stdout.writeBytes(b);
        }

        @Override
        public void stderr(byte[] b) {
            if (stderr.size() + b.length <= 64 * 1024) stderr.writeBytes(b);
        }

        String stderr() { return stderr.toString(StandardCharsets.UTF_8); }
    }
}
