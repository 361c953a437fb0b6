package dev.bhatti.server.store;

import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.regex.Pattern;

/** An age such as {@code 30m}, {@code 24h} or {@code 7d}, the {@code since} of the stored events and metrics history. */
public final class Ages {
    private static final Pattern AGE = Pattern.compile("(\\d{1,6})([smhd])");

    private Ages() {}

    /** The instant {@code age} before {@code now}; empty when {@code age} is not an age (a date, say). */
    public static Optional<Instant> before(String age, Instant now) {
        var m = AGE.matcher(age);
        if (!m.matches()) return Optional.empty();
        long n = Long.parseLong(m.group(1));
        return Optional.of(now.minus(switch (m.group(2)) {
            case "s" -> Duration.ofSeconds(n);
            case "m" -> Duration.ofMinutes(n);
            case "h" -> Duration.ofHours(n);
            default -> Duration.ofDays(n);
        }));
    }
}
