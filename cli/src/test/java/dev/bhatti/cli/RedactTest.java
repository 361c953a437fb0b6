package dev.bhatti.cli;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** An API key given on the command line never comes back in an error. */
class RedactTest {

    record Run(int exit, String stderr) {}

    static Run run(String... args) {
        var original = System.err;
        var buffer = new ByteArrayOutputStream();
        System.setErr(new PrintStream(buffer, true, StandardCharsets.UTF_8));
        try {
            int exit = BhattiCli.run(args);
            return new Run(exit, buffer.toString(StandardCharsets.UTF_8));
        } finally {
            System.setErr(original);
        }
    }

    @Test
    void aMisplacedOrMistypedTokenIsMaskedInParseErrors() {
        for (String[] args : List.of(new String[]{"--token", "bht_0123SECRET", "list"},
                new String[]{"--token=sekrit-value", "list"},
                new String[]{"list", "--tokne", "sekrit-value"},
                new String[]{"list", "--token", "sekrit-value", "extra", "sekrit-value"},
                new String[]{"list", "bht_0123SECRET"})) {
            var r = run(args);
            assertThat(r.exit()).as(String.join(" ", args)).isNotZero();
            assertThat(r.stderr()).as(String.join(" ", args)).isNotBlank().doesNotContain("SECRET").doesNotContain("sekrit");
        }
        assertThat(run("--token", "bht_0123SECRET", "list").stderr()).contains("Unknown options: '--token', '" + Redact.MASK + "'");
    }

    @Test
    void masksTheTokenValuesAndAnythingShapedLikeAKey() {
        String[] args = {"list", "--token", "abc.def", "--url", "http://x"};
        assertThat(Redact.tokens(args)).containsExactly("abc.def");
        assertThat(Redact.tokens(new String[]{"--token=k1", "--token"})).containsExactly("k1");
        assertThat(Redact.secrets("bad 'abc.def' and bht_ffee00 here", args)).isEqualTo("bad '****' and **** here");
        assertThat(Redact.secrets("http://x is unreachable", args)).isEqualTo("http://x is unreachable");
    }
}
