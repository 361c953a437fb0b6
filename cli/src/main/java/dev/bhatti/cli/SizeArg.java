package dev.bhatti.cli;

import java.util.regex.Pattern;

/** Sizes on the command line: 8G, 2048M, 2048 (MB). */
final class SizeArg {
    private static final Pattern SIZE = Pattern.compile("(\\d{1,9})([MmGgTt]?)[Bb]?");

    private SizeArg() {}

    /** The size in MB; {@code flag} names the option in the error. */
    static int mb(String size, String flag) throws CliException {
        var m = SIZE.matcher(size.strip());
        if (!m.matches()) throw new CliException(flag + " must be a size like 8G or 2048M, got " + size);
        long mb = Long.parseLong(m.group(1)) * switch (m.group(2).toLowerCase()) {
            case "g" -> 1024L;
            case "t" -> 1024L * 1024;
            default -> 1L;
        };
        if (mb < 1 || mb > Integer.MAX_VALUE) throw new CliException(flag + " " + size + " is out of range");
        return (int) mb;
    }

    /** MB as a person reads it: 10G, 1536M. */
    static String human(long mb) { return mb >= 1024 && mb % 1024 == 0 ? (mb / 1024) + "G" : mb + "M"; }
}
