package dev.bhatti.bench;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import dev.bhatti.engine.qemu.BareVm;
import java.nio.file.Files;
import java.time.LocalDate;
import java.time.ZoneOffset;

/**
 * The end-to-end benchmark against a running daemon: floors without the daemon, then every scenario
 * through the daemon, then the JMH suite; writes {@code <out>/<date>-<host>.md} and a PNG chart beside it.
 * Timings are reported, never asserted. Exit status: 0 = everything worked functionally, 1 = something
 * failed (non-2xx, a non-zero exit code, a CLI exiting non-zero), 2 = bad usage. Normally started by bench/run.
 */
public final class BenchMain {
    private BenchMain() {}

    public static void main(String[] args) throws Exception {
        Options o = Options.parse(args);
        var api = new Api(o.url, o.token);
        var results = new Results();
        var ctx = new Context(o, api, new Cli(o.cli), results);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> api.destroyAll(o.prefix))); // Ctrl-C / SIGTERM

        long started = System.nanoTime();
        HostFacts facts = HostFacts.collect(o);
        facts.put("daemon", api.url() + " " + api.request("GET", "/health", null).body());
        facts.all().forEach((k, v) -> System.out.printf("%-22s %s%n", k + ":", v));

        String failure = null;
        try {
            if (o.densityOnly) {
                run(new DensitySection(), ctx);
                throw new Done();
            }
            if (o.sdkOnly) {
                createMain(ctx, facts);
                run(new SdkSection(), ctx);
                throw new Done();
            }
            run(new CreateSection(), ctx);   // with the bare boots
            run(new FloorSection(), ctx);
            run(new ImageSection(), ctx);    // after the create section: its create to first exec is the baseline
            run(new VolumeSection(), ctx);   // the same baseline
            createMain(ctx, facts);
            run(new ExecSection(), ctx);
            run(new ConcurrentSection(), ctx);
            run(new FilesSection(), ctx);
            run(new GuestSection(), ctx);      // after exec and files: the agent's memory after that work
            run(new ShellSection(), ctx);
            run(new ApiSection(), ctx);
            run(new SdkSection(), ctx);
            for (int mb : o.thermalMemory) run(new ThermalSection(mb), ctx);
            if (o.density > 0) run(new DensitySection(), ctx);
            ctx.closeBare();
            run(new ProxySection(), ctx);
            run(new LoadSection(), ctx);
            api.destroyAll(o.prefix); // no VM running while JMH measures the host
            run(new JmhSection(), ctx);
        } catch (Done e) {
            // the one section asked for ran
        } catch (Exception e) {
            failure = e.getClass().getSimpleName() + ": " + e.getMessage();
            System.out.println("\nFAILED: " + failure);
            e.printStackTrace(System.out);
        } finally {
            ctx.closeBare();
            api.destroyAll(o.prefix);
        }
        facts.put("load average at end", HostFacts.loadAvg());
        facts.put("duration", String.format(Locale.ROOT, "%.0f s", (System.nanoTime() - started) / 1e9));
        String outcome = failure == null ? "OK (no functional failure)" : "FAILED: " + failure;

        String host = o.hostLabel != null ? o.hostLabel : HostFacts.hostname() + "-" + facts.all().getOrDefault("accelerator", "unknown").split(" ")[0];
        String base = LocalDate.now(ZoneOffset.UTC) + "-" + host + (o.quick ? "-quick" : "");
        Path md = o.outDir.resolve(base + ".md");
        Path png = o.outDir.resolve(base + ".png");
        String chart = null;
        try {
            Files.createDirectories(o.outDir);
            BarChart.write(results, "bhatti " + base, png);
            chart = png.getFileName().toString();
        } catch (Exception | Error e) { // a chart is a convenience; the markdown has every number
            System.out.println("chart not written: " + e);
        }
        MarkdownReport.write(md, MarkdownReport.render(facts, results, chart, outcome));
        System.out.println("\nreport: " + md + (chart != null ? "\nchart:  " + png : ""));
        System.out.println("result: " + outcome);
        System.out.flush();
        Runtime.getRuntime().halt(failure == null ? 0 : 1); // skip the hook: already cleaned up
    }

    /** Ends a run of one section early, as a success. */
    private static final class Done extends Exception {
        Done() { super(null, null, false, false); }
    }

    private static void run(Section s, Context ctx) throws Exception {
        System.out.printf("%n== %s ==%n", s.title());
        long t0 = System.nanoTime();
        s.run(ctx);
        System.out.printf(Locale.ROOT, "  (%.1f s)%n", (System.nanoTime() - t0) / 1e9);
    }

    /** The sandbox the exec, file, API and proxy sections share; also tells the accelerator and the guest kernel. */
    private static void createMain(Context ctx, HostFacts facts) throws Exception {
        Options o = ctx.opt();
        ctx.mainName = ctx.name("main");
        ctx.mainId = ctx.api().create(ctx.mainName, o.cpus, o.memoryMb, true);
        String accel = ctx.api().inspect(ctx.mainId).path("accelerator").asString("unknown");
        facts.put("accelerator", accel + " (reported by the daemon for the sandboxes; bare VMs: " + BareVm.accelerator() + ")");
        facts.put("guest kernel", ctx.api().execOk(ctx.mainId, List.of("uname", "-r")).trim());
        facts.put("guest", o.cpus + " vCPU, " + o.memoryMb + " MiB (thermal: " + new ArrayList<>(o.thermalMemory) + " MiB)");
        System.out.println("accelerator:           " + facts.all().get("accelerator"));
    }
}
