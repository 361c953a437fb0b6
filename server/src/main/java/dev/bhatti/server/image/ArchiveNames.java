package dev.bhatti.server.image;

import dev.bhatti.server.sandbox.Limits;

import java.util.ArrayDeque;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The names an image archive's entries may have. Only those {@code docker save} (legacy and OCI),
 * skopeo, crane and OCI layouts write are kept, so a staged file's path is never the archive's choice.
 */
final class ArchiveNames {
    private static final String HEX = "[a-f0-9]{64}";
    private static final Pattern KEPT = Pattern.compile("manifest\\.json|index\\.json|oci-layout|repositories|blobs/sha256/" + HEX
            + "|sha256:" + HEX + "|" + HEX + "\\.(json|tar|tar\\.gz)|" + HEX + "/(layer\\.tar|json|VERSION)");
    private static final Pattern PLAIN = Pattern.compile("[A-Za-z0-9._:/-]{1,200}");

    private ArchiveNames() {}

    static boolean kept(String name) { return KEPT.matcher(name).matches(); }

    /** The entry name without leading "./" and trailing "/"; refused when it is absolute or climbs out. */
    static String safe(String raw) throws ImportException {
        String name = raw;
        while (name.startsWith("./")) name = name.substring(2);
        if (name.endsWith("/")) name = name.substring(0, name.length() - 1);
        boolean climbs = false;
        for (String part : name.split("/")) climbs |= part.equals("..");
        if (name.startsWith("/") || climbs || name.indexOf('\0') >= 0) {
            throw new ImportException("entry " + shown(raw) + " points outside the archive; refused");
        }
        return name;
    }

    /** The kept name a symlink {@code name -> target} stands for; empty unless both ends are kept names inside the archive. */
    static Optional<String> linkTarget(String name, String target) {
        if (!kept(name) || target.startsWith("/")) return Optional.empty();
        var parts = new ArrayDeque<String>();
        int slash = name.lastIndexOf('/');
        for (String part : ((slash < 0 ? "" : name.substring(0, slash + 1)) + target).split("/")) {
            if (part.isEmpty() || part.equals(".")) continue;
            if (!part.equals("..")) parts.addLast(part);
            else if (parts.pollLast() == null) return Optional.empty();
        }
        String resolved = String.join("/", parts);
        return kept(resolved) ? Optional.of(resolved) : Optional.empty();
    }

    /** A name or digest from the archive, for a message: as it is when plain, else escaped and cut short. */
    static String shown(String s) { return PLAIN.matcher(s).matches() ? s : Limits.printable(s); }
}
