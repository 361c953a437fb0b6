package dev.bhatti.agent.services;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A systemd service unit, as far as sandboxes need one: what to run (ExecStart and friends, Type,
 * User, WorkingDirectory, Environment), when to restart it, what it depends on, and how long a
 * Type=notify service may take to report READY=1 (TimeoutStartSec).
 */
public record UnitFile(String name, String description, Type type, List<ExecLine> execStartPre, List<ExecLine> execStart,
                       List<ExecLine> execStartPost, List<ExecLine> execStop, Restart restart, long restartMillis,
                       Map<String, String> environment, List<String> environmentFiles, String user, String workingDirectory,
                       boolean remainAfterExit, String pidFile, List<String> after, List<String> requires, List<String> wants,
                       List<String> wantedBy, long timeoutStartMillis) {

    /** How the service starts and when it counts as up (Type=); a type not listed runs as simple. */
    public enum Type {
        /** Up once its process is started (simple and exec). */
        SIMPLE,
        /** Its commands run to their end; up afterwards only with RemainAfterExit=yes. */
        ONESHOT,
        /** Its command forks the daemon and exits; the daemon's pid is read from PIDFile=. */
        FORKING,
        /** Up once it sends READY=1 on its NOTIFY_SOCKET. */
        NOTIFY;

        static Type parse(String value) {
            return switch (value.toLowerCase(Locale.ROOT)) {
                case "oneshot" -> ONESHOT;
                case "forking" -> FORKING;
                case "notify" -> NOTIFY;
                default -> SIMPLE;
            };
        }
    }

    /** When an ended service is started again (Restart=); a policy not listed never restarts it. */
    public enum Restart {
        NO, ALWAYS,
        /** After an exit code other than 0 (on-failure, on-abnormal). */
        ON_FAILURE;

        static Restart parse(String value) {
            return switch (value.toLowerCase(Locale.ROOT)) {
                case "always" -> ALWAYS;
                case "on-failure", "on-abnormal" -> ON_FAILURE;
                default -> NO;
            };
        }

        /** Whether a service that ended with {@code exitCode} starts again. */
        public boolean after(int exitCode) {
            return this == ALWAYS || this == ON_FAILURE && exitCode != 0;
        }
    }

    /** One Exec*= line; {@code ignoreFailure} is the '-' prefix. */
    public record ExecLine(List<String> argv, boolean ignoreFailure) {}

    public static UnitFile parse(String name, String text) {
        Map<String, List<String>> keys = new LinkedHashMap<>();
        String section = "";
        var logical = new StringBuilder();
        for (String raw : text.split("\n", -1)) {
            String line = raw.strip();
            if (logical.isEmpty() && (line.startsWith("#") || line.startsWith(";"))) continue;
            if (line.endsWith("\\")) {
                logical.append(line, 0, line.length() - 1).append(' ');
                continue;
            }
            logical.append(line);
            String full = logical.toString().strip();
            logical.setLength(0);
            if (full.isEmpty()) continue;
            if (full.startsWith("[") && full.endsWith("]")) {
                section = full.substring(1, full.length() - 1);
                continue;
            }
            int eq = full.indexOf('=');
            if (eq <= 0) continue;
            String key = section + "." + full.substring(0, eq).strip();
            String value = full.substring(eq + 1).strip();
            if (value.isEmpty()) keys.remove(key); // an empty assignment resets a list
            else keys.computeIfAbsent(key, k -> new ArrayList<>()).add(value);
        }
        var env = new LinkedHashMap<String, String>();
        for (String assignment : all(keys, "Service.Environment")) {
            for (String word : ExecParser.words(assignment)) {
                int eq = word.indexOf('=');
                if (eq > 0) env.put(word.substring(0, eq), word.substring(eq + 1));
            }
        }
        return new UnitFile(name, one(keys, "Unit.Description", name), Type.parse(one(keys, "Service.Type", "simple")),
                execs(keys, "Service.ExecStartPre", name), execs(keys, "Service.ExecStart", name),
                execs(keys, "Service.ExecStartPost", name), execs(keys, "Service.ExecStop", name),
                Restart.parse(one(keys, "Service.Restart", "no")), seconds(one(keys, "Service.RestartSec", "0.1")),
                env, all(keys, "Service.EnvironmentFile"), one(keys, "Service.User", ""), one(keys, "Service.WorkingDirectory", ""),
                bool(one(keys, "Service.RemainAfterExit", "no")), one(keys, "Service.PIDFile", ""),
                names(keys, "Unit.After"), names(keys, "Unit.Requires"), names(keys, "Unit.Wants"), names(keys, "Install.WantedBy"),
                timeout(one(keys, "Service.TimeoutStartSec", one(keys, "Service.TimeoutSec", "90"))));
    }

    public static UnitFile load(Path file) throws IOException {
        String name = file.getFileName().toString();
        return parse(name, Files.readString(file));
    }

    private static List<String> all(Map<String, List<String>> keys, String key) { return keys.getOrDefault(key, List.of()); }

    private static String one(Map<String, List<String>> keys, String key, String dflt) {
        var v = keys.get(key);
        return v == null || v.isEmpty() ? dflt : v.getLast();
    }

    private static List<ExecLine> execs(Map<String, List<String>> keys, String key, String unit) {
        var out = new ArrayList<ExecLine>();
        for (String v : all(keys, key)) {
            boolean ignore = false;
            while (!v.isEmpty() && "-@+!:".indexOf(v.charAt(0)) >= 0) {
                if (v.charAt(0) == '-') ignore = true;
                v = v.substring(1);
            }
            var argv = ExecParser.words(v.replace("%n", unit).replace("%N", unit.replaceFirst("\\.service$", "")).replace("%%", "%"));
            if (!argv.isEmpty()) out.add(new ExecLine(argv, ignore));
        }
        return out;
    }

    private static List<String> names(Map<String, List<String>> keys, String key) {
        var out = new ArrayList<String>();
        for (String v : all(keys, key)) for (String n : v.split("\\s+")) if (!n.isBlank()) out.add(n);
        return out;
    }

    private static boolean bool(String v) { return List.of("yes", "true", "1", "on").contains(v.toLowerCase(Locale.ROOT)); }

    /** A timeout: a time span, or "infinity"/"0" for none. */
    static long timeout(String v) {
        String s = v.strip().toLowerCase(Locale.ROOT);
        return s.equals("infinity") || s.equals("0") ? Long.MAX_VALUE : seconds(s);
    }

    /** systemd time spans: "5", "5s", "100ms", "2min". */
    static long seconds(String v) {
        String s = v.strip().toLowerCase(Locale.ROOT);
        try {
            if (s.endsWith("ms")) return Long.parseLong(s.substring(0, s.length() - 2).strip());
            if (s.endsWith("min")) return Long.parseLong(s.substring(0, s.length() - 3).strip()) * 60_000;
            if (s.endsWith("s")) s = s.substring(0, s.length() - 1);
            return Math.round(Double.parseDouble(s.strip()) * 1000);
        } catch (NumberFormatException e) {
            return 100;
        }
    }
}
