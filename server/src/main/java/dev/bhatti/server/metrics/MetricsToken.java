package dev.bhatti.server.metrics;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;

/**
 * The scrape-only credential for {@code GET /metrics}: the first line of {@code <data_dir>/metrics.token},
 * so that a Prometheus server needs no admin key. Read at every scrape: writing, replacing or removing the
 * file takes effect without a restart. A token shorter than {@link #MIN_LENGTH} is not accepted (a
 * guessable one would open the metrics to anyone).
 */
public final class MetricsToken {
    private static final Logger log = LoggerFactory.getLogger(MetricsToken.class);

    public static final String FILE = "metrics.token";
    public static final int MIN_LENGTH = 16;

    private final Path file;
    private volatile boolean warned;

    public MetricsToken(Path dataDir) { this.file = dataDir.resolve(FILE); }

    /** Whether {@code presented} is the metrics token (compared in constant time). */
    public boolean matches(String presented) {
        String token = read();
        if (token == null || presented == null) return false;
        return MessageDigest.isEqual(token.getBytes(StandardCharsets.UTF_8), presented.getBytes(StandardCharsets.UTF_8));
    }

    private String read() {
        String token;
        try {
            String content = Files.readString(file, StandardCharsets.UTF_8);
            int eol = content.indexOf('\n');
            token = (eol < 0 ? content : content.substring(0, eol)).strip();
        } catch (NoSuchFileException e) {
            return null;
        } catch (IOException e) {
            warnOnce("cannot read " + file + ": " + e.getMessage());
            return null;
        }
        if (token.length() < MIN_LENGTH) {
            warnOnce(file + " holds a token shorter than " + MIN_LENGTH + " characters: it is not accepted");
            return null;
        }
        warned = false;
        return token;
    }

    private void warnOnce(String message) {
        if (warned) return;
        warned = true;
        log.warn(message);
    }
}
