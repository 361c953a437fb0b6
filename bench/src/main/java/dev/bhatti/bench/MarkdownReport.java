package dev.bhatti.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** The run as markdown: the host facts, then per section n, p50, p95, p99, the baseline and the ratio. */
final class MarkdownReport {
    private MarkdownReport() {}

    static String render(HostFacts facts, Results results, String chartFile, String outcome) {
        var b = new StringBuilder();
        b.append("# bhatti benchmark, ").append(facts.all().getOrDefault("date", "")).append(", ")
                .append(facts.all().getOrDefault("host", "")).append("\n\n");
        b.append("| | |\n|---|---|\n");
        facts.all().forEach((k, v) -> b.append("| ").append(k).append(" | ").append(cell(v)).append(" |\n"));
        b.append("| result | ").append(outcome).append(" |\n\n");
        b.append("""
                Times in milliseconds, nearest-rank percentiles (with n = 5, p95 and p99 are the maximum).
                **ratio** = p50 / p50 of the **baseline**, a scenario measured in this same run (usually a floor measured
                without the daemon). Results are comparable only within one run; the host may be shared and noisy.

                """);
        for (var e : bySection(results).entrySet()) {
            b.append("## ").append(e.getKey()).append("\n\n");
            b.append("| scenario | n | p50 | p95 | p99 | baseline | ratio |\n|---|---:|---:|---:|---:|---|---:|\n");
            for (var s : e.getValue()) {
                double r = results.ratio(s);
                b.append("| ").append(cell(s.label())).append(" | ").append(s.samples().n())
                        .append(" | ").append(Results.ms(s.samples().p50()))
                        .append(" | ").append(Results.ms(s.samples().p95()))
                        .append(" | ").append(Results.ms(s.samples().p99()))
                        .append(" | ").append(s.baseline() == null ? "" : cell(s.baseline()))
                        .append(" | ").append(Double.isNaN(r) ? "" : String.format(Locale.ROOT, "%.2f×", r))
                        .append(" |\n");
            }
            b.append('\n');
        }
        if (!results.measures().isEmpty()) {
            b.append("## sizes and counts\n\n| measure | value | unit | floor | ratio | target |\n|---|---:|---|---|---:|---|\n");
            for (var m : results.measures()) {
                double r = results.ratio(m);
                b.append(String.format(Locale.ROOT, "| %s | %.1f | %s | %s | %s | %s |%n", cell(m.label()), m.value(), m.unit(),
                        m.floor() == null ? "" : cell(m.floor()), Double.isNaN(r) ? "" : String.format(Locale.ROOT, "%.2f×", r),
                        m.target() == null ? "" : cell(m.target())));
            }
            b.append('\n');
        }
        if (!results.jmh().isEmpty()) {
            b.append("## JMH: host hot paths\n\n| benchmark | mode | score | ± error (99.9%) | unit |\n|---|---|---:|---:|---|\n");
            for (var j : results.jmh()) {
                b.append(String.format(Locale.ROOT, "| %s | %s | %.1f | %s | %s |%n", j.benchmark(), j.mode(), j.score(),
                        Double.isNaN(j.error()) ? "-" : String.format(Locale.ROOT, "%.1f", j.error()), j.unit()));
            }
            b.append('\n');
        }
        if (!results.notes().isEmpty()) {
            b.append("## Notes\n\n");
            for (String n : results.notes()) b.append("- ").append(n).append('\n');
            b.append('\n');
        }
        if (chartFile != null) b.append("## Chart\n\n![p50 bars with p95/p99 whiskers, log scale](").append(chartFile).append(")\n");
        return b.toString();
    }

    static Map<String, List<Results.Scenario>> bySection(Results results) {
        var m = new LinkedHashMap<String, List<Results.Scenario>>();
        for (var s : results.all()) m.computeIfAbsent(s.section(), k -> new ArrayList<>()).add(s);
        return m;
    }

    static void write(Path file, String markdown) throws IOException {
        Files.createDirectories(file.toAbsolutePath().getParent());
        Files.writeString(file, markdown);
    }

    private static String cell(String s) { return s.replace("|", "\\|"); }
}
