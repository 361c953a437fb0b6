package dev.bhatti.cli;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Bad usage exits 2 with a message naming what was wrong and a suggestion, --help or not, so a script can tell
 * a missing command from a working one; help itself exits 0; the codes are documented in the root help.
 */
class ExitCodesTest {

    record Run(int exit, String stdout, String stderr) {}

    static Run run(String... args) {
        var out = System.out;
        var err = System.err;
        var stdout = new ByteArrayOutputStream();
        var stderr = new ByteArrayOutputStream();
        System.setOut(new PrintStream(stdout, true, StandardCharsets.UTF_8));
        System.setErr(new PrintStream(stderr, true, StandardCharsets.UTF_8));
        try {
            int exit = BhattiCli.run(args);
            return new Run(exit, stdout.toString(StandardCharsets.UTF_8), stderr.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(out);
            System.setErr(err);
        }
    }

    @Test
    void anUnknownCommandIsBadUsageEvenWithHelp() {
        for (String[] args : new String[][] {{"nosuchcommand"}, {"nosuchcommand", "--help"}, {"--help", "nosuchcommand"}}) {
            var r = run(args);
            assertThat(r.exit()).as(String.join(" ", args)).isEqualTo(2);
            assertThat(r.stderr()).as(String.join(" ", args)).contains("unknown command 'nosuchcommand'").contains("bhatti --help");
            assertThat(r.stdout()).as("no help on stdout for a script to mistake").isEmpty();
        }
        var typo = run("lst");
        assertThat(typo.exit()).isEqualTo(2);
        assertThat(typo.stderr()).contains("unknown command 'lst'").contains("Did you mean").contains("bhatti ls");
    }

    @Test
    void anUnknownSubcommandOrOptionOrExtraWordIsBadUsage() {
        var sub = run("image", "nosuch", "--help");
        assertThat(sub.exit()).isEqualTo(2);
        assertThat(sub.stderr()).contains("unknown command 'nosuch'").contains("bhatti image --help");
        var option = run("list", "--bogus", "--help");
        assertThat(option.exit()).isEqualTo(2);
        assertThat(option.stderr()).contains("Unknown option: '--bogus'");
        var extra = run("list", "extra");
        assertThat(extra.exit()).isEqualTo(2);
        assertThat(extra.stderr()).contains("'extra'");
    }

    @Test
    void helpExitsZeroAndDocumentsTheCodes() {
        var root = run("--help");
        assertThat(root.exit()).isZero();
        assertThat(root.stdout()).contains("Exit codes: 0 done; 1 the command failed").contains("2 bad usage").contains("124");
        var list = run("list", "--help");
        assertThat(list.exit()).isZero();
        assertThat(list.stdout()).contains("Usage: bhatti list");
    }
}
