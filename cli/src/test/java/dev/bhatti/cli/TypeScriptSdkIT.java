package dev.bhatti.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The TypeScript SDK (sdk/typescript, global fetch only) against a real daemon with real VMs: `npm ci` (its
 * pinned TypeScript from the lockfile), then `npm test`, which compiles and runs its node:test suites (create,
 * exec buffered and streamed, files, snapshot and resume, stop/start, secrets, publish, typed errors including
 * a 429 from a user allowed no sandbox, and the offline faults), with the daemon's URL and keys in the
 * environment as a user's program would get them. Prints the suite's exec round-trip numbers.
 */
@ExtendWith(DaemonLogOnFailure.class)
class TypeScriptSdkIT {

    /** The suites' tests: 10 offline and 9 against the daemon (a live suite that skipped would count none). */
    static final int TESTS = 19;

    @RegisterExtension
    static final DaemonUnderTest bhatti = new DaemonUnderTest("bhatti-tssdk-");

    @Test
    void theSdksOwnTestsPassAgainstTheDaemon() throws Exception {
        Path sdk = Path.of("").toAbsolutePath().getParent().resolve("sdk/typescript");
        String limitedKey = bhatti.userKey("limited", "--max-sandboxes", "0");

        Map<String, String> env = Map.of(
                "BHATTI_URL", bhatti.daemon().url(),
                "BHATTI_TOKEN", bhatti.daemon().apiKey(),
                "BHATTI_LIMITED_TOKEN", limitedKey,
                "BHATTI_CONFIG", bhatti.dataDir().resolve("no-cli-config.yaml").toString());
        String versions = run(sdk, Map.of(), 1, "node", "--version") + " npm " + run(sdk, Map.of(), 1, "npm", "--version");
        long t0 = System.nanoTime();
        run(sdk, Map.of(), 10, "npm", "ci");
        long t1 = System.nanoTime();
        String out = run(sdk, env, 10, "npm", "test");
        long t2 = System.nanoTime();

        assertThat(out).contains("ℹ tests " + TESTS, "ℹ pass " + TESTS, "ℹ fail 0", "ℹ skipped 0", "ℹ cancelled 0");
        out.lines().filter(l -> l.startsWith("exec round trip")).forEach(System.out::println);
        System.out.printf("TypeScript SDK on node %s: npm ci %d ms, build and tests %d ms%n",
                versions.replace("\n", ""), (t1 - t0) / 1_000_000, (t2 - t1) / 1_000_000);
    }

    /** Runs a command in the SDK's directory to a zero exit within {@code minutes}; its output (stdout and stderr). */
    private static String run(Path dir, Map<String, String> env, int minutes, String... cmd) throws Exception {
        Path log = Files.createTempFile("bhatti-tssdk", ".log");
        try {
            var pb = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).redirectOutput(log.toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
            pb.environment().keySet().removeAll(List.of("BHATTI_URL", "BHATTI_TOKEN", "BHATTI_LIMITED_TOKEN", "BHATTI_CONFIG"));
            pb.environment().putAll(env);
            pb.environment().putAll(Map.of("NPM_CONFIG_AUDIT", "false", "NPM_CONFIG_FUND", "false", "NPM_CONFIG_UPDATE_NOTIFIER", "false"));
            Process p;
            try {
                p = pb.start();
            } catch (java.io.IOException e) {
                throw new AssertionError(cmd[0] + " is not installed: scripts/install-deps.sh installs Debian's nodejs and npm", e);
            }
            if (!p.waitFor(minutes, TimeUnit.MINUTES)) {
                p.destroyForcibly().waitFor();
                throw new AssertionError(String.join(" ", cmd) + " did not finish in " + minutes + " min:\n" + Files.readString(log));
            }
            String out = Files.readString(log);
            assertThat(p.exitValue()).as(String.join(" ", cmd) + "\n" + out).isZero();
            return out;
        } finally {
            Files.deleteIfExists(log);
        }
    }
}
