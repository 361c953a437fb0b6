package dev.bhatti.testkit;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * A strict parser of the Prometheus text exposition format 0.0.4, for tests of {@code /metrics}. The
 * Prometheus Java client writes this format but ships no parser of it (only its protobuf writer's
 * generated classes read anything back), so the tests hold the daemon's output to the format's rules
 * here: names and label names of the allowed characters, label values with only the allowed escapes,
 * one TYPE per family before its samples, samples of a family contiguous and of the family's names
 * ({@code _bucket}, {@code _sum}, {@code _count} for histograms), no sample twice, values that are
 * numbers (or NaN, +Inf, -Inf), and histograms whose buckets grow with {@code le} up to a {@code +Inf}
 * bucket equal to {@code _count}. Anything else throws {@link IllegalArgumentException} naming the line.
 */
public final class PrometheusText {
    private static final Pattern NAME = Pattern.compile("[a-zA-Z_:][a-zA-Z0-9_:]*");
    private static final Pattern LABEL = Pattern.compile("[a-zA-Z_][a-zA-Z0-9_]*");
    private static final List<String> TYPES = List.of("counter", "gauge", "histogram", "summary", "untyped");

    /** One sample line. */
    public record Sample(String name, Map<String, String> labels, double value) {}

    /** A metric family: its TYPE, its HELP (empty without one) and its samples in order. */
    public record Family(String name, String type, String help, List<Sample> samples) {

        /** The value of the sample {@code sampleName} whose labels include {@code labels} (pairs: name, value...); NaN if none. */
        public double value(String sampleName, String... labels) {
            return find(sampleName, labels).map(Sample::value).orElse(Double.NaN);
        }

        /** The sample {@code sampleName} whose labels include {@code labels}, if exactly one fits. */
        public Optional<Sample> find(String sampleName, String... labels) {
            if (labels.length % 2 != 0) throw new IllegalArgumentException("labels come in pairs");
            List<Sample> fits = new ArrayList<>();
            outer:
            for (Sample s : samples) {
                if (!s.name().equals(sampleName)) continue;
                for (int i = 0; i < labels.length; i += 2) if (!labels[i + 1].equals(s.labels().get(labels[i]))) continue outer;
                fits.add(s);
            }
            if (fits.size() > 1) throw new IllegalArgumentException(fits.size() + " samples of " + sampleName + " fit " + List.of(labels));
            return fits.stream().findFirst();
        }
    }

    private PrometheusText() {}

    /** Every family of {@code text}, by name, in the order they came. */
    public static Map<String, Family> parse(String text) {
        var families = new LinkedHashMap<String, Family>();
        var helps = new LinkedHashMap<String, String>();
        var seen = new HashSet<String>();
        Family current = null;
        String[] lines = text.split("\n", -1);
        if (!text.isEmpty() && !text.endsWith("\n")) throw new IllegalArgumentException("the text must end with a newline");
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i];
            String at = "line " + (i + 1) + " '" + line + "': ";
            if (line.isEmpty()) continue;
            if (line.startsWith("#")) {
                String[] p = line.split(" ", 4);
                if (p.length >= 3 && p[1].equals("HELP")) {
                    name(p[2], at);
                    if (helps.put(p[2], p.length == 4 ? unescape(p[3], at) : "") != null) throw new IllegalArgumentException(at + "a second HELP");
                } else if (p.length >= 3 && p[1].equals("TYPE")) {
                    name(p[2], at);
                    if (p.length != 4 || !TYPES.contains(p[3])) throw new IllegalArgumentException(at + "TYPE must be one of " + TYPES);
                    if (families.containsKey(p[2])) throw new IllegalArgumentException(at + "a second TYPE, or a TYPE after its samples");
                    current = new Family(p[2], p[3], "", new ArrayList<>());
                    families.put(p[2], current);
                }
                continue; // other comments are allowed
            }
            Sample s = sample(line, at);
            if (current == null || !belongs(current, s.name())) {
                throw new IllegalArgumentException(at + "a sample outside its family (no TYPE before it, or its family's samples are not together)");
            }
            String key = s.name() + new TreeMap<>(s.labels());
            if (!seen.add(key)) throw new IllegalArgumentException(at + "the same sample twice");
            current.samples().add(s);
        }
        var out = new LinkedHashMap<String, Family>();
        for (Family f : families.values()) {
            if ("histogram".equals(f.type())) checkHistogram(f);
            out.put(f.name(), new Family(f.name(), f.type(), helps.getOrDefault(f.name(), ""), List.copyOf(f.samples())));
        }
        for (String h : helps.keySet()) {
            if (!families.containsKey(h)) throw new IllegalArgumentException("HELP for " + h + " without its TYPE");
        }
        return out;
    }

    private static boolean belongs(Family f, String sample) {
        if (sample.equals(f.name())) return !f.type().equals("histogram");
        return switch (f.type()) {
            case "histogram" -> sample.equals(f.name() + "_bucket") || sample.equals(f.name() + "_sum") || sample.equals(f.name() + "_count")
                    || sample.equals(f.name() + "_created");
            case "summary" -> sample.equals(f.name() + "_sum") || sample.equals(f.name() + "_count") || sample.equals(f.name() + "_created");
            case "counter" -> sample.equals(f.name() + "_created");
            default -> false;
        };
    }

    private static Sample sample(String line, String at) {
        int i = 0;
        while (i < line.length() && line.charAt(i) != '{' && line.charAt(i) != ' ') i++;
        String name = name(line.substring(0, i), at);
        var labels = new LinkedHashMap<String, String>();
        if (i < line.length() && line.charAt(i) == '{') {
            i++;
            while (true) {
                if (i < line.length() && line.charAt(i) == '}') {
                    i++;
                    break;
                }
                int eq = line.indexOf('=', i);
                if (eq < 0) throw new IllegalArgumentException(at + "a label without '='");
                String label = line.substring(i, eq);
                if (!LABEL.matcher(label).matches() || label.startsWith("__")) throw new IllegalArgumentException(at + "bad label name '" + label + "'");
                if (eq + 1 >= line.length() || line.charAt(eq + 1) != '"') throw new IllegalArgumentException(at + "a label value must be quoted");
                int j = eq + 2;
                var value = new StringBuilder();
                while (true) {
                    if (j >= line.length()) throw new IllegalArgumentException(at + "an unterminated label value");
                    char c = line.charAt(j);
                    if (c == '"') break;
                    if (c == '\\') {
                        if (j + 1 >= line.length()) throw new IllegalArgumentException(at + "a lone backslash");
                        char e = line.charAt(j + 1);
                        value.append(switch (e) {
                            case '\\' -> '\\';
                            case '"' -> '"';
                            case 'n' -> '\n';
                            default -> throw new IllegalArgumentException(at + "the escape \\" + e + " is not allowed in a label value");
                        });
                        j += 2;
                        continue;
                    }
                    value.append(c);
                    j++;
                }
                if (labels.put(label, value.toString()) != null) throw new IllegalArgumentException(at + "label " + label + " twice");
                i = j + 1;
                if (i < line.length() && line.charAt(i) == ',') i++;
                else if (i >= line.length() || line.charAt(i) != '}') throw new IllegalArgumentException(at + "expected ',' or '}' after a label");
            }
        }
        if (i >= line.length() || line.charAt(i) != ' ') throw new IllegalArgumentException(at + "expected a space before the value");
        String[] rest = line.substring(i + 1).split(" ", -1);
        if (rest.length < 1 || rest.length > 2) throw new IllegalArgumentException(at + "expected a value and at most a timestamp");
        double value = number(rest[0], at);
        if (rest.length == 2) {
            try {
                Long.parseLong(rest[1]);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(at + "the timestamp must be whole milliseconds");
            }
        }
        return new Sample(name, Map.copyOf(labels), value);
    }

    private static double number(String s, String at) {
        switch (s) {
            case "NaN": return Double.NaN;
            case "+Inf": return Double.POSITIVE_INFINITY;
            case "-Inf": return Double.NEGATIVE_INFINITY;
            default:
                if (!s.matches("[-+]?([0-9]+\\.?[0-9]*|\\.[0-9]+)([eE][-+]?[0-9]+)?")) throw new IllegalArgumentException(at + "'" + s + "' is not a number");
                return Double.parseDouble(s);
        }
    }

    private static String name(String name, String at) {
        if (!NAME.matcher(name).matches()) throw new IllegalArgumentException(at + "bad metric name '" + name + "'");
        return name;
    }

    /** HELP text allows \\ and \n only. */
    private static String unescape(String s, String at) {
        var out = new StringBuilder();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c != '\\') {
                out.append(c);
                continue;
            }
            if (i + 1 >= s.length()) throw new IllegalArgumentException(at + "a lone backslash");
            char e = s.charAt(++i);
            if (e == '\\') out.append('\\');
            else if (e == 'n') out.append('\n');
            else throw new IllegalArgumentException(at + "the escape \\" + e + " is not allowed in HELP");
        }
        return out.toString();
    }

    /** Buckets of each series grow with le, end in le="+Inf", and that bucket is the series' _count. */
    private static void checkHistogram(Family f) {
        var series = new LinkedHashMap<Map<String, String>, TreeMap<Double, Double>>();
        var counts = new LinkedHashMap<Map<String, String>, Double>();
        for (Sample s : f.samples()) {
            var rest = new TreeMap<>(s.labels());
            if (s.name().endsWith("_bucket")) {
                String le = rest.remove("le");
                if (le == null) throw new IllegalArgumentException(f.name() + ": a bucket without le");
                series.computeIfAbsent(rest, k -> new TreeMap<>()).put(number(le, f.name() + ": "), s.value());
            } else if (s.name().endsWith("_count")) {
                counts.put(rest, s.value());
            }
        }
        for (var e : series.entrySet()) {
            double before = 0;
            for (var b : e.getValue().entrySet()) {
                if (b.getValue() < before) throw new IllegalArgumentException(f.name() + e.getKey() + ": bucket le=" + b.getKey() + " holds fewer than the one before");
                before = b.getValue();
            }
            if (e.getValue().lastKey() != Double.POSITIVE_INFINITY) throw new IllegalArgumentException(f.name() + e.getKey() + ": no le=\"+Inf\" bucket");
            if (!Objects.equals(counts.get(e.getKey()), e.getValue().get(Double.POSITIVE_INFINITY))) {
                throw new IllegalArgumentException(f.name() + e.getKey() + ": the +Inf bucket is not the _count");
            }
        }
        if (!counts.keySet().equals(series.keySet())) throw new IllegalArgumentException(f.name() + ": _count and _bucket series differ");
    }
}
