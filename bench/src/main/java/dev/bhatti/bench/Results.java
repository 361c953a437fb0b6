package dev.bhatti.bench;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.LinkedHashSet;

/**
 * Every measured scenario of one run, in the order measured, grouped by section. A scenario may name a
 * baseline (another scenario of the same run, usually a floor measured without the daemon); its ratio is
 * p50 / the baseline's p50.
 */
public final class Results {

    /** One scenario; {@code baseline} is the label of another scenario, or null. */
    public record Scenario(String section, String label, Samples samples, String baseline, String note) {}

    private final Map<String, Scenario> scenarios = new LinkedHashMap<>();
    private final List<String> notes = new ArrayList<>();
    private final List<JmhRow> jmh = new ArrayList<>();
    private final List<Measure> measures = new ArrayList<>();

    /**
     * A quantity that is not a time (a resident size, a count): {@code floor} names another measure of the
     * run to compare with, {@code target} says what the value should be at most (free text), either may be null.
     */
    public record Measure(String label, double value, String unit, String floor, String target) {}

    public synchronized void measure(String label, double value, String unit, String floor, String target) {
        measures.add(new Measure(label, value, unit, floor, target));
        System.out.printf(Locale.ROOT, "  %-60s %10.1f %s%s%n", label, value, unit, target == null ? "" : "   (target " + target + ")");
    }

    public synchronized List<Measure> measures() { return List.copyOf(measures); }

    /** value / the floor measure's value, or NaN. */
    public synchronized double ratio(Measure m) {
        if (m.floor() == null) return Double.NaN;
        return measures.stream().filter(x -> x.label().equals(m.floor()) && x.value() > 0).findFirst()
                .map(f -> m.value() / f.value()).orElse(Double.NaN);
    }

    /** One JMH benchmark's primary result (score ± error, e.g. in ns/op). */
    public record JmhRow(String benchmark, String mode, int samples, double score, double error, String unit) {}

    public synchronized void jmh(JmhRow row) { jmh.add(row); }

    public synchronized List<JmhRow> jmh() { return List.copyOf(jmh); }

    public synchronized Samples add(String section, String label, String baseline) {
        return add(section, label, baseline, "");
    }

    public synchronized Samples add(String section, String label, String baseline, String note) {
        var s = new Scenario(section, label, new Samples(), baseline, note);
        if (scenarios.putIfAbsent(label, s) != null) throw new IllegalArgumentException("duplicate scenario " + label);
        return s.samples();
    }

    public synchronized Samples samples(String label) {
        Scenario s = scenarios.get(label);
        return s == null ? null : s.samples();
    }

    public synchronized List<Scenario> all() {
        return scenarios.values().stream().filter(s -> s.samples().n() > 0).toList();
    }

    /** Free-text facts worth keeping with the numbers (sizes on disk, accelerators, skipped sections). */
    public synchronized void note(String text) { notes.add(text); }

    public synchronized List<String> notes() { return List.copyOf(notes); }

    /** p50 / the baseline's p50, or NaN without a measured baseline. */
    public synchronized double ratio(Scenario s) {
        if (s.baseline() == null) return Double.NaN;
        Samples b = samples(s.baseline());
        if (b == null || b.n() == 0 || b.p50() <= 0) return Double.NaN;
        return s.samples().p50() / b.p50();
    }

    /**
     * Prints the scenarios of one section to stdout as they are finished, so progress is visible; first the
     * baselines they use from other sections.
     */
    public synchronized void print(String section) {
        System.out.printf(ROW, "(ms)", "N", "p50", "p95", "p99", "min", "max", "baseline ratio");
        var rows = new LinkedHashSet<Scenario>();
        for (Scenario s : scenarios.values()) {
            if (!s.section().equals(section) || s.baseline() == null) continue;
            Scenario b = scenarios.get(s.baseline());
            if (b != null && !b.section().equals(section)) rows.add(b);
        }
        for (Scenario s : scenarios.values()) if (s.section().equals(section)) rows.add(s);
        for (Scenario s : rows) {
            if (s.samples().n() == 0) continue;
            Samples m = s.samples();
            double r = ratio(s);
            System.out.printf(Locale.ROOT, ROW, s.label(), m.n(), ms(m.p50()), ms(m.p95()), ms(m.p99()), ms(m.min()), ms(m.max()),
                    Double.isNaN(r) ? "" : String.format(Locale.ROOT, "%.2fx %s", r, s.baseline()));
        }
        System.out.flush();
    }

    private static final String ROW = "  %-40s %5s %9s %9s %9s %9s %9s  %s%n";

    /** Milliseconds with precision that fits the magnitude. */
    public static String ms(double v) {
        if (Double.isNaN(v)) return "-";
        if (v >= 100) return String.format(Locale.ROOT, "%.0f", v);
        if (v >= 10) return String.format(Locale.ROOT, "%.1f", v);
        if (v >= 1) return String.format(Locale.ROOT, "%.2f", v);
        return String.format(Locale.ROOT, "%.3f", v);
    }
}
