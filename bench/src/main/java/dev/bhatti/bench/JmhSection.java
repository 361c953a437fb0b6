package dev.bhatti.bench;

import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.CommandLineOptions;
import org.openjdk.jmh.runner.options.VerboseMode;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import org.openjdk.jmh.runner.options.OptionsBuilder;

/**
 * The JMH suite for the host's hot paths (frame codec, JSON, routing, store reads), run from this jar with
 * the options in {@code --jmh-args}; forks use this JVM and class path.
 */
final class JmhSection implements Section {
    @Override public String title() { return "JMH: host hot paths"; }

    @Override
    public void run(Context ctx) throws Exception {
        if (!ctx.opt().jmh) return;
        var args = new ArrayList<>(Arrays.asList(ctx.opt().jmhArgs.trim().split("\\s+")));
        args.add("dev\\.bhatti\\..*Bench\\..*");
        var options = new CommandLineOptions(args.toArray(String[]::new));
        var runner = new Runner(new OptionsBuilder().parent(options).verbosity(VerboseMode.SILENT)
                .jvmArgsAppend("--sun-misc-unsafe-memory-access=allow", "--enable-native-access=ALL-UNNAMED").build());
        List<RunResult> results = new ArrayList<>(runner.run());
        results.sort((a, b) -> a.getParams().getBenchmark().compareTo(b.getParams().getBenchmark()));
        if (results.isEmpty()) throw new BenchFailure("JMH ran no benchmark (is META-INF/BenchmarkList in the jar?)");
        System.out.printf("  %-60s %12s %12s  %s%n", "benchmark", "score", "error", "unit");
        for (RunResult rr : results) {
            var p = rr.getPrimaryResult();
            String name = shortName(rr.getParams().getBenchmark());
            double err = p.getScoreError();
            ctx.results().jmh(new Results.JmhRow(name, rr.getParams().getMode().shortLabel(), (int) p.getSampleCount(), p.getScore(), err, p.getScoreUnit()));
            System.out.printf(Locale.ROOT, "  %-60s %12.1f %12s  %s%n", name, p.getScore(), Double.isNaN(err) ? "-" : String.format(Locale.ROOT, "%.1f", err), p.getScoreUnit());
        }
    }

    static String shortName(String fqcn) {
        String[] parts = fqcn.split("\\.");
        return parts.length >= 2 ? parts[parts.length - 2] + "." + parts[parts.length - 1] : fqcn;
    }
}
