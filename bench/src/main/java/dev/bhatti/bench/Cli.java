package dev.bhatti.bench;

import java.util.ArrayList;
import java.util.Arrays;

/** The bhatti CLI as a subprocess (launcher script, JVM start, HTTP call): what a user's shell sees. */
final class Cli {
    private final String executable;

    Cli(String executable) { this.executable = executable; }

    /** Runs {@code bhatti args...}, insists on exit code 0 and returns the wall-clock duration in ns. */
    long run(String... args) throws Exception {
        long t0 = System.nanoTime();
        output(args);
        return System.nanoTime() - t0;
    }

    /** Runs {@code bhatti args...}, insists on exit code 0 and returns what it printed. */
    String output(String... args) throws Exception {
        var cmd = new ArrayList<String>();
        cmd.add(executable);
        cmd.addAll(Arrays.asList(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        byte[] out = p.getInputStream().readAllBytes();
        int rc = p.waitFor();
        if (rc != 0) throw new BenchFailure(String.join(" ", cmd) + " exited " + rc + ": " + new String(out));
        return new String(out, java.nio.charset.StandardCharsets.UTF_8);
    }
}
