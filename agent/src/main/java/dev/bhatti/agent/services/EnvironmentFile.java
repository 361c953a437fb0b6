package dev.bhatti.agent.services;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/** An EnvironmentFile=: KEY=VALUE lines, '#' comments, values optionally in single or double quotes. */
public final class EnvironmentFile {
    private EnvironmentFile() {}

    /** Adds the file's variables to {@code env}. */
    public static void readInto(Path file, Map<String, String> env) throws IOException {
        for (String line : Files.readAllLines(file)) {
            String l = line.strip();
            if (l.isEmpty() || l.startsWith("#")) continue;
            int eq = l.indexOf('=');
            if (eq > 0) env.put(l.substring(0, eq).strip(), unquote(l.substring(eq + 1).strip()));
        }
    }

    private static String unquote(String v) {
        if (v.length() >= 2 && (v.startsWith("\"") && v.endsWith("\"") || v.startsWith("'") && v.endsWith("'"))) {
            return v.substring(1, v.length() - 1);
        }
        return v;
    }
}
