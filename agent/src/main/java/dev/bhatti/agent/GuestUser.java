package dev.bhatti.agent;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.Optional;

/** A user from the guest's {@code /etc/passwd}. Commands run as uid 1000 unless root is asked for. */
record GuestUser(String name, int uid, int gid, String home, String shell) {

    static final int DEFAULT_UID = 1000;

    static GuestUser root() { return new GuestUser("root", 0, 0, "/root", "/bin/sh"); }

    /** Resolves "" (the default user), a name, or a numeric uid. */
    static Optional<GuestUser> resolve(Path passwd, String requested) {
        String key = requested.isEmpty() ? Integer.toString(DEFAULT_UID) : requested;
        try {
            for (String line : CachedFile.read(passwd).lines().toList()) {
                String[] f = line.split(":", -1);
                if (f.length < 7) continue;
                if (f[0].equals(key) || f[2].equals(key)) {
                    return Optional.of(new GuestUser(f[0], Integer.parseInt(f[2]), Integer.parseInt(f[3]), f[5], f[6]));
                }
            }
        } catch (IOException | NumberFormatException e) {
            // fall through: an unreadable passwd file still lets root and the default uid work
        }
        if (key.equals("root") || key.equals("0")) return Optional.of(root());
        if (key.equals(Integer.toString(DEFAULT_UID))) {
            return Optional.of(new GuestUser("", DEFAULT_UID, DEFAULT_UID, "/", "/bin/sh"));
        }
        return Optional.empty();
    }

    /**
     * The groups a login gives this user (what initgroups(3) and {@code setpriv --init-groups} give): its
     * primary group and every group of {@code groupFile} that lists it. A user without a name gets none.
     */
    int[] groups(Path groupFile) {
        if (name.isEmpty()) return new int[0];
        var ids = new LinkedHashSet<Integer>();
        ids.add(gid);
        try {
            for (String line : CachedFile.read(groupFile).lines().toList()) {
                String[] f = line.split(":", -1);
                if (f.length < 4 || f[3].isEmpty()) continue;
                if (Arrays.asList(f[3].split(",")).contains(name)) ids.add(Integer.parseInt(f[2]));
            }
        } catch (IOException | NumberFormatException e) {
            // an unreadable group file: the primary group only
        }
        return ids.stream().mapToInt(Integer::intValue).toArray();
    }
}
