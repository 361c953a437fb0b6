package dev.bhatti.agent;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * One {@code systemctl} command line, parsed: the verb (list-units when there is none), the unit
 * names after it, and the options the agent acts on. Other options (--system, --no-block,
 * --no-pager, ...) are accepted and ignored, as package scripts pass them.
 *
 * @param properties what {@code show -p/--property} asks for (empty: all)
 * @param states     what {@code list-units --state} keeps (empty: all)
 */
record SystemctlRequest(String verb, List<String> units, boolean now, boolean quiet, boolean all, boolean noLegend,
                        boolean valueOnly, Set<String> properties, Set<String> states) {

    /** More arguments than any real use needs; the agent refuses the rest instead of working through them. */
    static final int MAX_ARGS = 256;

    static SystemctlRequest parse(List<String> args) {
        if (args.size() > MAX_ARGS) throw new IllegalArgumentException("too many arguments (" + args.size() + "; at most " + MAX_ARGS + ")");
        String verb = null;
        var units = new ArrayList<String>();
        boolean now = false, quiet = false, all = false, noLegend = false, value = false;
        var properties = new LinkedHashSet<String>();
        var states = new LinkedHashSet<String>();
        for (int i = 0; i < args.size(); i++) {
            String a = args.get(i);
            switch (a) {
                case "--now" -> now = true;
                case "-q", "--quiet" -> quiet = true;
                case "-a", "--all" -> all = true;
                case "--no-legend" -> noLegend = true;
                case "--value" -> value = true;
                case "-p", "--property", "--state" -> {
                    if (i + 1 == args.size()) throw new IllegalArgumentException("option " + a + " needs a value");
                    (a.equals("--state") ? states : properties).addAll(list(args.get(++i)));
                }
                default -> {
                    if (a.startsWith("--property=")) properties.addAll(list(a.substring(11)));
                    else if (a.startsWith("-p") && !a.startsWith("--")) properties.addAll(list(a.substring(2)));
                    else if (a.startsWith("--state=")) states.addAll(list(a.substring(8)));
                    else if (a.startsWith("-")) continue; // --system, --no-block, --no-pager, --type=service, ...
                    else if (verb == null) verb = a;
                    else units.add(a);
                }
            }
        }
        return new SystemctlRequest(verb == null ? "list-units" : verb, List.copyOf(units), now, quiet, all, noLegend,
                value, Set.copyOf(properties), Set.copyOf(states));
    }

    private static List<String> list(String commaSeparated) {
        return List.of(commaSeparated.split(",")).stream().map(String::strip).filter(s -> !s.isEmpty()).toList();
    }
}
