package dev.bhatti.cli;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Keeps API keys out of what the CLI prints: an error that quotes the command line (an unknown option,
 * an argument out of place) must not show the key given with {@code --token}, nor anything shaped like one.
 */
final class Redact {
    static final String MASK = "****";
    private static final Pattern KEY = Pattern.compile("bht_[A-Za-z0-9]+");

    private Redact() {}

    /** The values given to {@code --token} on this command line, wherever it stands. */
    static List<String> tokens(String[] args) {
        var out = new ArrayList<String>();
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (a.equals("--token") && i + 1 < args.length) out.add(args[i + 1]);
            else if (a.startsWith("--token=")) out.add(a.substring("--token=".length()));
        }
        out.removeIf(String::isEmpty);
        return out;
    }

    /**
     * The values picocli could not match that follow an unknown option: {@code --tokne KEY} is a mistyped
     * {@code --token}, and nothing tells which unknown option takes a secret, so none is quoted back.
     */
    static List<String> unknownOptionValues(List<String> unmatched) {
        var out = new ArrayList<String>();
        for (int i = 1; i < unmatched.size(); i++) {
            String a = unmatched.get(i);
            if (unmatched.get(i - 1).startsWith("-") && !a.startsWith("-") && !a.isEmpty()) out.add(a);
        }
        return out;
    }

    /** {@code text} with every token of {@code args}, and every {@code bht_} key, replaced by {@value #MASK}. */
    static String secrets(String text, String[] args) { return secrets(text, args, List.of()); }

    /** Also masks the {@code more} values (see {@link #unknownOptionValues}). */
    static String secrets(String text, String[] args, List<String> more) {
        if (text == null) return null;
        var values = new ArrayList<>(tokens(args));
        values.addAll(more);
        values.sort((a, b) -> b.length() - a.length()); // a longer value first, so a shorter one inside it leaves no rest
        String masked = text;
        for (String v : values) masked = masked.replace(v, MASK);
        return KEY.matcher(masked).replaceAll(MASK);
    }
}
