package dev.bhatti.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The Python SDK (sdk/python, standard library only) against a real daemon with real VMs: its own unittest
 * suite (create, exec buffered and streamed, files, snapshot and resume, stop/start, typed errors including 429 for
 * a user with no room left, the asyncio client side by side and a stream left early), run by
 * Debian's python3 with the daemon's URL and key in the environment, as a user's program would get them.
 */
@ExtendWith(DaemonLogOnFailure.class)
class PythonSdkIT {

    @RegisterExtension
    static final DaemonUnderTest bhatti = new DaemonUnderTest("bhatti-pysdk-");

    @Test
    void theSdksOwnTestsPassAgainstTheDaemon() throws Exception {
        Path sdk = Path.of("").toAbsolutePath().getParent().resolve("sdk/python");
        String limitedKey = bhatti.userKey("limited", "--max-sandboxes", "0");
        Path log = Files.createTempFile("bhatti-pysdk", ".log");
        try {
            var pb = new ProcessBuilder("/usr/bin/python3", "-W", "ignore", "-m", "unittest", "discover", "-s", "tests", "-v")
                    .directory(sdk.toFile()).redirectErrorStream(true).redirectOutput(log.toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
            pb.environment().put("PYTHONPATH", sdk.toString());
            pb.environment().put("BHATTI_URL", bhatti.daemon().url());
            pb.environment().put("BHATTI_TOKEN", bhatti.daemon().apiKey());
            pb.environment().put("BHATTI_LIMITED_TOKEN", limitedKey);
            pb.environment().remove("BHATTI_CONFIG");
            Process p = pb.start();
            assertThat(p.waitFor(15, TimeUnit.MINUTES)).as("the SDK's tests finish").isTrue();
            String out = Files.readString(log);
            assertThat(p.exitValue()).as(out).isZero();
            assertThat(out).contains("Ran 12 tests").doesNotContain("skipped");
        } finally {
            Files.deleteIfExists(log);
        }
    }
}
