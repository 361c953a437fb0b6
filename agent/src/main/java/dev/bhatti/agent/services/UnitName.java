package dev.bhatti.agent.services;

import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Unit names as systemd accepts them: letters, digits and {@code :-_.\} with at most one {@code @}
 * (templates), 255 characters at most, and a unit type suffix ({@code .service} added when there is
 * none, so {@code php8.2-fpm} is {@code php8.2-fpm.service}). A name never holds a {@code /}: names
 * become file names in the unit and log directories, and callers of systemctl need not be root; nor
 * does it start with a dot.
 */
public final class UnitName {

    static final int MAX_LENGTH = 255;
    private static final Set<String> TYPES = Set.of("service", "socket", "target", "timer", "path", "mount",
            "automount", "swap", "slice", "scope", "device");
    /** Not starting with a dot either: no hidden files, no "..". */
    private static final Pattern VALID = Pattern.compile("[A-Za-z0-9:_\\\\-][A-Za-z0-9:_.\\\\-]*(@[A-Za-z0-9:_.\\\\-]*)?");

    private UnitName() { }

    /** The full unit name of {@code name} (with its suffix), or empty if it is not a valid unit name. */
    public static Optional<String> parse(String name) {
        if (name == null || name.isEmpty()) return Optional.empty();
        int dot = name.lastIndexOf('.');
        String unit = dot > 0 && TYPES.contains(name.substring(dot + 1)) ? name : name + ".service";
        int suffix = unit.lastIndexOf('.');
        if (unit.length() > MAX_LENGTH || suffix == 0 || !VALID.matcher(unit.substring(0, suffix)).matches()) return Optional.empty();
        return Optional.of(unit);
    }

    /** Whether {@code name} is a full unit name (with a type suffix), as file names in unit directories are. */
    public static boolean isFull(String name) {
        return parse(name).filter(name::equals).isPresent();
    }
}
