package dev.bhatti.server.sandbox;

import dev.bhatti.server.error.DomainException;
import dev.bhatti.server.store.UserRecord;

import java.util.regex.Pattern;

/** Validation of what users ask for. Out-of-range values are refused, never silently replaced. */
public final class Limits {
    public static final Pattern NAME = Pattern.compile("[a-zA-Z0-9][a-zA-Z0-9._-]{0,62}");
    /**
     * What sandbox and snapshot ids look like ({@code ApiKeys.randomHex(8)}): lookups take a name or an
     * id, so a name of this shape could shadow another's id (or be shadowed by it) and is refused.
     */
    public static final Pattern ID_LIKE = Pattern.compile("[0-9a-fA-F]{16}");
    public static final int DEFAULT_CPUS = 1;
    public static final int DEFAULT_MEMORY_MB = 512;
    public static final int MIN_MEMORY_MB = 128;
    public static final int DEFAULT_TIMEOUT_SEC = 300;
    public static final int MAX_TIMEOUT_SEC = 86_400;

    private Limits() {}

    public static String name(String name) {
        if (name.isEmpty()) throw DomainException.invalid("name must not be empty");
        if (name.length() > 63) throw DomainException.invalid("name is longer than 63 characters");
        if (!NAME.matcher(name).matches()) {
            throw DomainException.invalid("invalid name '" + printable(name)
                    + "': use letters, digits, '.', '_' and '-', starting with a letter or digit");
        }
        if (ID_LIKE.matcher(name).matches()) {
            throw DomainException.invalid("invalid name '" + name + "': 16 hexadecimal digits is the form of an id, and a"
                    + " name is looked up like an id, so it could hide another sandbox or snapshot; pick a name of another form");
        }
        return name;
    }

    public static int cpus(Double cpus, UserRecord user) {
        if (cpus == null) return DEFAULT_CPUS;
        if (cpus != Math.rint(cpus) || cpus < 1 || cpus > user.maxCpus()) {
            throw DomainException.invalid("cpus must be a whole number from 1 to " + user.maxCpus() + " (your vCPU limit), got " + cpus);
        }
        return cpus.intValue();
    }

    public static int memoryMb(Integer memoryMb, UserRecord user) {
        if (memoryMb == null) return DEFAULT_MEMORY_MB;
        if (memoryMb < MIN_MEMORY_MB || memoryMb > user.maxMemoryMb()) {
            throw DomainException.invalid("memory_mb must be from " + MIN_MEMORY_MB + " to " + user.maxMemoryMb()
                    + " (your memory limit), got " + memoryMb);
        }
        return memoryMb;
    }

    /** Largest root disk a create may ask for, in MB (1 TiB). */
    public static final int MAX_DISK_MB = 1 << 20;

    /** A root disk size (0: the image's own); whether it fits the image is the engine's to say. */
    public static int diskMb(Integer diskMb) {
        if (diskMb == null) return 0;
        if (diskMb < 1 || diskMb > MAX_DISK_MB) {
            throw DomainException.invalid("disk_size_mb must be from 1 to " + MAX_DISK_MB + ", got " + diskMb);
        }
        return diskMb;
    }

    public static int timeoutSec(Integer timeoutSec) {
        if (timeoutSec == null) return DEFAULT_TIMEOUT_SEC;
        if (timeoutSec < 1 || timeoutSec > MAX_TIMEOUT_SEC) {
            throw DomainException.invalid("timeout_sec must be from 1 to " + MAX_TIMEOUT_SEC + ", got " + timeoutSec);
        }
        return timeoutSec;
    }

    /** An octal file mode (default 0644): permission bits only, as the agent can keep nothing more through the chown. */
    public static int fileMode(String mode) {
        if (mode == null || mode.isEmpty()) return 0644;
        if (!mode.matches("0?[0-7]{1,4}")) throw DomainException.invalid("mode must be octal, like 0644");
        int bits = Integer.parseInt(mode, 8);
        if (bits > 0777) {
            throw DomainException.invalid("mode " + mode + " is not supported: only permission bits (0000 to 0777),"
                    + " no setuid, setgid or sticky; set those with chmod through exec");
        }
        return bits;
    }

    public static String printableKey(String s) { return s == null ? "(null)" : printable(s); }

    public static String printable(String s) {
        var b = new StringBuilder();
        s.codePoints().limit(70).forEach(c -> b.append(c < 0x20 || c == 0x7f ? String.format("\\x%02x", c) : Character.toString(c)));
        return b.toString();
    }
}
