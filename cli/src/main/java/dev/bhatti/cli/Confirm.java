package dev.bhatti.cli;

import java.io.Console;

/** Confirmation of destructive commands: asked at a terminal, required as --yes in scripts (never a silent no-op). */
final class Confirm {
    private Confirm() {}

    /** True to go on; false if the user said no at the prompt. Throws without a terminal and without --yes. */
    static boolean proceed(boolean yes, String action, String question) throws CliException {
        if (yes) return true;
        Console console = System.console();
        if (console == null) throw new CliException("refusing to " + action + " without confirmation; add --yes (-y) in scripts");
        String answer = console.readLine("%s [y/N] ", question);
        if (answer != null && answer.strip().equalsIgnoreCase("y")) return true;
        System.err.println("nothing done");
        return false;
    }
}
