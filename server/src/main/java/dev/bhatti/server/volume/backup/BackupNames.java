package dev.bhatti.server.volume.backup;

import java.security.SecureRandom;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoField;
import java.util.HexFormat;
import java.util.regex.Pattern;

/**
 * The names that become parts of object keys. Whatever arrives from outside is checked against these
 * shapes first, so no key can climb out of its user's prefix ({@code ..}, {@code /}) or collide.
 */
final class BackupNames {

    /** Volume names and user ids: the shapes of sandbox names and {@code usr_...} ids. */
    static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,62}");
    /**
     * {@code 20261206T110512Z-3fa9}: UTC to the second, then 4 hex digits: the millisecond (10 bits) and 6
     * random bits. Sorts by time, also within a second (retention keeps the newest by this order).
     */
    static final Pattern BACKUP_ID = Pattern.compile("\\d{8}T\\d{6}Z-[0-9a-f]{4}");
    /** HMAC-SHA256 in hex. */
    static final Pattern CHUNK_ID = Pattern.compile("[0-9a-f]{64}");

    private static final DateTimeFormatter STAMP = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'").withZone(ZoneOffset.UTC);
    private static final SecureRandom RANDOM = new SecureRandom();

    private BackupNames() {}

    static String newBackupId(Instant now) {
        int suffix = (now.get(ChronoField.MILLI_OF_SECOND) << 6) | RANDOM.nextInt(64);
        return STAMP.format(now) + "-" + HexFormat.of().toHexDigits((short) suffix);
    }

    static Instant instantOf(String backupId) {
        return STAMP.parse(backupId.substring(0, 16), Instant::from);
    }

    static String user(String userId) {
        if (userId == null || !NAME.matcher(userId).matches()) throw BackupException.notFound("no such user: '" + userId + "'");
        return userId;
    }

    static String volume(String name) {
        if (name == null || !NAME.matcher(name).matches()) throw BackupException.notFound("no volume named '" + name + "'");
        return name;
    }

    static String backupId(String id) {
        if (id == null || !BACKUP_ID.matcher(id).matches()) {
            throw BackupException.notFound("no backup '" + id + "' (backup ids look like 20261206T110512Z-3fa9)");
        }
        return id;
    }
}
