package dev.bhatti.bench;

import dev.bhatti.engine.ExecCommand;
import dev.bhatti.engine.ExecListener;
import dev.bhatti.engine.FileSink;
import dev.bhatti.engine.GuestFile;
import dev.bhatti.engine.ReadRange;
import dev.bhatti.engine.qemu.BareVm;

import java.io.ByteArrayInputStream;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * The floors, measured without the daemon: the same kernel and root image booted with the engine's QEMU
 * command line to a ready agent (floor for create), raw round trips on the agent channel (floor for exec
 * and files) and QMP stop/cont alone (floor for pause/resume). Skipped without {@code --images}.
 */
final class FloorSection implements Section {
    static final String SECTION = "floors (no daemon)";
    static final String BOOT = "bare QEMU boot to agent hello";
    static final String BOOT_EXEC = "bare QEMU boot to first exec true";
    static final String PING = "agent ping round trip";
    static final String QMP_STOP = "QMP stop alone";
    static final String QMP_CONT = "QMP cont alone";
    static final String LS = "agent file ls";

    static String exec(String name) { return "agent exec " + name; }
    static String write(int bytes) { return "agent file write " + Sizes.label(bytes); }
    static String read(int bytes) { return "agent file read " + Sizes.label(bytes); }

    @Override public String title() { return "floors: bare QEMU boot, agent channel and QMP without the daemon"; }

    @Override
    public void run(Context ctx) throws Exception {
        Options o = ctx.opt();
        if (o.images == null || o.dataDir == null) {
            ctx.results().note("floors skipped: no --images/--data-dir given");
            System.out.println("  skipped (no --images/--data-dir)");
            return;
        }
        Results r = ctx.results();
        Samples boot = r.add(SECTION, BOOT, null);
        Samples bootExec = r.add(SECTION, BOOT_EXEC, null);
        BareVm vm = null;
        try {
            for (int i = 0; i < o.nBare; i++) {
                if (vm != null) vm.close();
                Path dir = o.dataDir.resolve("bare" + i);
                long t0 = System.nanoTime();
                vm = BareVm.boot(o.images, dir, "minimal", o.cpus, o.memoryMb);
                exec(vm, Context.EXEC_CASES.getFirst());
                bootExec.add(System.nanoTime() - t0);
                boot.add(vm.bootNanos());
                System.out.printf(Locale.ROOT, "  bare boot #%d: agent hello after %.0f ms, first exec after %.0f ms%n",
                        i + 1, vm.bootNanos() / 1e6, (System.nanoTime() - t0) / 1e6);
            }
            channel(ctx, vm);
        } finally {
            if (vm != null) vm.close();
        }
        r.print(SECTION);
    }

    private static void channel(Context ctx, BareVm vm) throws Exception {
        Options o = ctx.opt();
        Results r = ctx.results();
        var agent = vm.agent();
        Samples ping = r.add(SECTION, PING, null);
        for (int i = 0; i < o.nFloor; i++) ping.add(Timer.time(() -> agent.ping(30, TimeUnit.SECONDS)));
        for (var c : Context.EXEC_CASES) {
            exec(vm, c); // warm-up: page the binary in
            Samples s = r.add(SECTION, exec(c.name()), null);
            for (int i = 0; i < o.nFloor; i++) s.add(Timer.time(() -> exec(vm, c)));
        }
        for (int size : o.fileSizes) {
            byte[] content = Sizes.content(size);
            String path = "/tmp/floor-" + size;
            Samples w = r.add(SECTION, write(size), null);
            Samples rd = r.add(SECTION, read(size), null);
            for (int i = 0; i < o.nFiles; i++) {
                w.add(Timer.time(() -> agent.writeFile(path, 0644, "", new ByteArrayInputStream(content))));
                rd.add(Timer.time(() -> {
                    long got = readAll(vm, path);
                    if (got != size) throw new BenchFailure("agent read " + got + " bytes of " + path + ", wrote " + size);
                }));
            }
        }
        Samples ls = r.add(SECTION, LS, null);
        for (int i = 0; i < o.nFiles; i++) ls.add(Timer.time(() -> agent.listFiles("/usr/bin")));
        Samples stop = r.add(SECTION, QMP_STOP, null);
        Samples cont = r.add(SECTION, QMP_CONT, null);
        for (int i = 0; i < o.nFloor; i++) {
            stop.add(Timer.time(vm::qmpStop));
            cont.add(Timer.time(vm::qmpCont));
        }
    }

    private static void exec(BareVm vm, Context.ExecCase c) throws Exception {
        var result = vm.agent().exec(ExecCommand.of(c.argv().toArray(String[]::new)), ExecListener.NONE);
        if (result.exitCode() != 0) throw new BenchFailure("agent exec " + c.argv() + " exited " + result.exitCode());
    }

    private static long readAll(BareVm vm, String path) throws Exception {
        long[] n = {0};
        vm.agent().readFile(path, ReadRange.ALL, new FileSink() {
            @Override public void begin(GuestFile file) { }
            @Override public void data(byte[] bytes) { n[0] += bytes.length; }
        });
        return n[0];
    }

}
