package dev.bhatti.agent;

import java.nio.file.Files;
import java.nio.file.Path;

/** Finds a command the way execvp would, so a missing program is reported instead of spawned. */
sealed interface CommandPath {
    record Found(Path path) implements CommandPath {}
    record Missing() implements CommandPath {}
    record NotExecutable(Path path) implements CommandPath {}

    static CommandPath resolve(String program, String searchPath, Path cwd) {
        if (program.isEmpty()) return new Missing();
        if (program.contains("/")) return check(cwd.resolve(program));
        CommandPath result = new Missing();
        for (String dir : searchPath.split(":")) {
            if (dir.isEmpty()) continue;
            CommandPath c = check(Path.of(dir).resolve(program));
            if (c instanceof Found) return c;
            if (c instanceof NotExecutable) result = c;
        }
        return result;
    }

    private static CommandPath check(Path p) {
        if (!Files.exists(p) || Files.isDirectory(p)) return Files.isDirectory(p) ? new NotExecutable(p) : new Missing();
        return Files.isExecutable(p) ? new Found(p) : new NotExecutable(p);
    }
}
