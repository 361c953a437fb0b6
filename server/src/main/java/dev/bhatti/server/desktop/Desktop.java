package dev.bhatti.server.desktop;

import dev.bhatti.server.error.DomainException;

import java.util.Locale;
import java.util.regex.Pattern;

/**
 * What the desktop API accepts, checked before anything reaches a guest: screen coordinates, mouse
 * buttons, text to type and key combinations (xdotool's names: {@code ctrl+l}, {@code Return},
 * {@code alt+F4}, several separated by spaces).
 */
public final class Desktop {
    private Desktop() {}

    /** Larger than any screen an X server makes (X coordinates are 16-bit). */
    public static final int MAX_COORDINATE = 32_767;
    /** Typed a character at a time (xdotool's delay), so a long text holds the request for minutes. */
    public static final int MAX_TEXT_CHARS = 4096;
    public static final int MAX_KEYS_CHARS = 256;
    /** One key or a combination: keysym names (letters, digits, _) joined by '+'. */
    private static final Pattern COMBO = Pattern.compile("[A-Za-z0-9_]{1,40}(\\+[A-Za-z0-9_]{1,40}){0,5}");

    /** A mouse button: left, middle, right (or 1-5, the wheel is 4 and 5). */
    public enum Button {
        LEFT("left"), MIDDLE("middle"), RIGHT("right"), WHEEL_UP("4"), WHEEL_DOWN("5");

        final String arg;

        Button(String arg) { this.arg = arg; }

        /** As the API names it: left, middle, right, wheel-up, wheel-down. */
        public String wire() { return name().toLowerCase(Locale.ROOT).replace('_', '-'); }

        public static Button parse(String s) {
            if (s == null || s.isEmpty()) return LEFT;
            return switch (s) {
                case "left", "1" -> LEFT;
                case "middle", "2" -> MIDDLE;
                case "right", "3" -> RIGHT;
                case "wheel-up", "4" -> WHEEL_UP;
                case "wheel-down", "5" -> WHEEL_DOWN;
                default -> throw DomainException.invalid("button must be left, middle, right, wheel-up or wheel-down (got '"
                        + printable(s) + "')");
            };
        }
    }

    /** The screen's size in pixels. */
    public record Size(int width, int height) {}

    static int coordinate(Integer v, String name) {
        if (v == null) throw DomainException.invalid(name + " is required (a pixel coordinate, 0 at the top left)");
        if (v < 0 || v > MAX_COORDINATE) throw DomainException.invalid(name + " must be between 0 and " + MAX_COORDINATE + " (got " + v + ")");
        return v;
    }

    static String text(String text) {
        if (text == null || text.isEmpty()) throw DomainException.invalid("text is required (what to type)");
        if (text.length() > MAX_TEXT_CHARS) {
            throw DomainException.invalid("text is " + text.length() + " characters; at most " + MAX_TEXT_CHARS + " per request");
        }
        if (text.indexOf('\0') >= 0) throw DomainException.invalid("text must not contain NUL characters");
        return text;
    }

    /** The combinations of {@code keys}, separated by spaces. */
    static String[] keys(String keys) {
        if (keys == null || keys.isBlank()) throw DomainException.invalid("keys is required (e.g. \"ctrl+l\", \"Return\", \"alt+F4 Tab\")");
        if (keys.length() > MAX_KEYS_CHARS) throw DomainException.invalid("keys is longer than " + MAX_KEYS_CHARS + " characters");
        String[] combos = keys.trim().split("\\s+");
        for (String c : combos) {
            if (!COMBO.matcher(c).matches()) {
                throw DomainException.invalid("bad key combination '" + printable(c)
                        + "': key names (letters, digits, _) joined by '+', like ctrl+l, shift+Tab, Return, alt+F4");
            }
        }
        return combos;
    }

    static String printable(String s) {
        String cut = s.length() > 60 ? s.substring(0, 60) + "..." : s;
        return cut.replaceAll("\\p{Cntrl}", "?");
    }
}
