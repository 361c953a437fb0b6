package dev.bhatti.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Pattern;

/** The engine's own timings for one VM, read from the daemon's log (lines like "vm ID paused in 812 us"). */
final class DaemonLog {
    /** A timing line: {@code pattern} follows "vm ID " and captures the number; {@code toNanos} scales it. */
    record Timing(String label, String pattern, long toNanos) {}

    private final Path file;
    private final String vmId;

    DaemonLog(Path file, String vmId) {
        this.file = file;
        this.vmId = vmId;
    }

    void collect(Timing t, Samples into) throws IOException {
        if (file == null || !Files.isReadable(file)) return;
        var p = Pattern.compile("vm " + Pattern.quote(vmId) + " " + t.pattern());
        for (String line : Files.readAllLines(file)) {
            var m = p.matcher(line);
            if (m.find()) into.add(Long.parseLong(m.group(1)) * t.toNanos());
        }
    }
}
