package dev.bhatti.bench;

import java.util.ArrayList;
import java.util.List;

/**
 * Exec of true, echo, cat and sha256sum on the shared sandbox, via HTTP and via the CLI subprocess, so
 * that the CLI's JVM start shows on its own. Floors: the same commands on the bare agent; for the CLI,
 * the HTTP exec (the difference is the CLI process) and {@code bhatti --version} (a bare JVM start).
 */
final class ExecSection implements Section {
    static final String SECTION = "exec";

    static String http(String name) { return "exec " + name + " (HTTP)"; }

    static String cli(String name) { return "bhatti exec -- " + name + " (CLI)"; }

    static final String VERSION = "bhatti --version (CLI start)";
    static final String HELLO = "java hello-world (launcher script, the CLI's JVM flags, own AOT cache)";
    static final String CLI_VS_HELLO = "bhatti exec -- true (CLI), against a Java hello-world";

    @Override public String title() { return "exec via HTTP and via the CLI"; }

    @Override
    public void run(Context ctx) throws Exception {
        Options o = ctx.opt();
        Results r = ctx.results();
        Api api = ctx.api();
        String id = ctx.mainId;
        var cases = Context.EXEC_CASES;
        var bare = ctx.bare;
        var http = new Samples[cases.size()];
        var floor = new Samples[cases.size()];
        for (int c = 0; c < cases.size(); c++) {
            String name = cases.get(c).name();
            if (bare != null) floor[c] = r.add(FloorSection.SECTION, FloorSection.exec(name), null);
            http[c] = r.add(SECTION, http(name), FloorSection.exec(name));
        }
        for (int i = 0; i < o.warmHttp; i++) {
            for (var c : cases) {
                api.execOk(id, c.argv());
                if (bare != null) BareAgent.exec(bare, c.argv());
            }
        }
        for (int i = 0; i < Math.max(o.nHttp, bare == null ? 0 : o.nFloor); i++) {
            // interleaved (floor, HTTP, next case, ...), so drift on a noisy host hits every case and its floor alike
            for (int c = 0; c < cases.size(); c++) {
                var argv = cases.get(c).argv();
                if (bare != null && i < o.nFloor) floor[c].add(Timer.time(() -> BareAgent.exec(bare, argv)));
                if (i < o.nHttp) http[c].add(Timer.time(() -> api.execOk(id, argv)));
            }
        }
        Samples version = r.add(SECTION, VERSION, null);
        var cli = new Samples[cases.size()];
        for (int c = 0; c < cases.size(); c++) cli[c] = r.add(SECTION, cli(cases.get(c).name()), http(cases.get(c).name()));
        for (int i = 0; i < o.warmCli; i++) {
            ctx.cli().run("--version");
            ctx.cli().run(cliArgs(ctx.mainName, cases.getFirst().argv()));
        }
        Cli hello = o.hello == null ? null : new Cli(o.hello);
        Samples helloRuns = hello == null ? null : r.add(SECTION, HELLO, null);
        Samples cliTrue = hello == null ? null : r.add(SECTION, CLI_VS_HELLO, HELLO);
        if (hello != null) hello.run();
        for (int i = 0; i < o.nCli; i++) {
            version.add(ctx.cli().run("--version"));
            for (int c = 0; c < cases.size(); c++) cli[c].add(ctx.cli().run(cliArgs(ctx.mainName, cases.get(c).argv())));
            if (hello != null) {                 // interleaved with the same command again
                helloRuns.add(hello.run());
                cliTrue.add(ctx.cli().run(cliArgs(ctx.mainName, cases.getFirst().argv())));
            }
        }
        r.print(SECTION);
    }

    private static String[] cliArgs(String sandbox, List<String> argv) {
        var a = new ArrayList<String>(List.of("exec", sandbox, "--"));
        a.addAll(argv);
        return a.toArray(String[]::new);
    }
}
