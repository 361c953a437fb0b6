package dev.bhatti.sdk;

import java.time.Duration;
import java.util.regex.Pattern;

/**
 * Checks of what a program hands the SDK, before anything is sent: a mistake in the caller's code is an
 * {@link IllegalArgumentException} naming the argument, not a round trip and a 400. The daemon stays the
 * judge of what it accepts (name patterns, sizes, quotas); these catch what can never be right.
 */
final class Validate {
    static final int MAX_PATH = 4096;
    static final int MAX_NAME = 255;
    private static final Pattern CONTROL = Pattern.compile("\\p{Cntrl}");

    private Validate() {}

    /** A name or id: not null, not blank, no control characters, not absurdly long. */
    static String name(String what, String value) {
        if (value == null) throw new IllegalArgumentException(what + " must not be null");
        if (value.isBlank()) throw new IllegalArgumentException(what + " must not be blank");
        if (value.length() > MAX_NAME) throw new IllegalArgumentException(what + " is longer than " + MAX_NAME + " characters");
        if (CONTROL.matcher(value).find()) throw new IllegalArgumentException(what + " must not contain control characters: " + printable(value));
        return value;
    }

    /** An absolute path in the guest. */
    static String guestPath(String what, String path) {
        if (path == null) throw new IllegalArgumentException(what + " must not be null");
        if (!path.startsWith("/")) throw new IllegalArgumentException(what + " must be an absolute guest path (start with /): " + printable(path));
        if (path.indexOf('\0') >= 0) throw new IllegalArgumentException(what + " must not contain NUL: " + printable(path));
        if (path.length() > MAX_PATH) throw new IllegalArgumentException(what + " is longer than " + MAX_PATH + " characters");
        return path;
    }

    static <T> T notNull(String what, T value) {
        if (value == null) throw new IllegalArgumentException(what + " must not be null");
        return value;
    }

    static int range(String what, int value, int min, int max) {
        if (value < min || value > max) throw new IllegalArgumentException(what + " must be from " + min + " to " + max + ", got " + value);
        return value;
    }

    /** A positive duration, at most {@code max}. */
    static Duration positive(String what, Duration value, Duration max) {
        notNull(what, value);
        if (value.isNegative() || value.isZero()) throw new IllegalArgumentException(what + " must be positive, got " + value);
        if (value.compareTo(max) > 0) throw new IllegalArgumentException(what + " must be at most " + max + ", got " + value);
        return value;
    }

    /** The value with control characters shown as escapes, for messages. */
    static String printable(String s) {
        var b = new StringBuilder("\"");
        s.codePoints().limit(80).forEach(c -> {
            if (Character.isISOControl(c)) b.append(String.format("\\u%04x", c));
            else b.appendCodePoint(c);
        });
        return b.append(s.codePointCount(0, s.length()) > 80 ? "...\"" : "\"").toString();
    }
}
