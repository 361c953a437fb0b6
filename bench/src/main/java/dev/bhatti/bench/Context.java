package dev.bhatti.bench;

import java.util.List;
import dev.bhatti.engine.qemu.BareVm;

/** What every section needs: the options, the daemon's API, the CLI, where results go and the shared sandbox. */
final class Context {
    private final Options opt;
    private final Api api;
    private final Cli cli;
    private final Results results;
    /** The long-lived sandbox the exec, file and API sections share (id and name). */
    String mainId;
    String mainName;
    /** The VM booted without the daemon for the floors, or null (no --images). */
    BareVm bare;

    Context(Options opt, Api api, Cli cli, Results results) {
        this.opt = opt;
        this.api = api;
        this.cli = cli;
        this.results = results;
    }

    Options opt() { return opt; }
    Api api() { return api; }
    Cli cli() { return cli; }
    Results results() { return results; }

    void closeBare() {
        if (bare != null) bare.close();
        bare = null;
    }

    /** A sandbox name owned by this run (the shutdown hook destroys everything with the prefix). */
    String name(String suffix) { return opt.prefix + "-" + suffix; }

    /** The commands measured by exec, in a sandbox and on the bare agent alike. */
    static final List<ExecCase> EXEC_CASES = List.of(
            new ExecCase("true", List.of("true")),
            new ExecCase("echo", List.of("echo", "hello")),
            new ExecCase("cat", List.of("cat", "/etc/os-release")),
            new ExecCase("sha256sum", List.of("sha256sum", "/bin/busybox")));

    record ExecCase(String name, List<String> argv) {}
}
