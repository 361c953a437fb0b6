package dev.bhatti.bench;

import dev.bhatti.engine.qemu.BareVm;

import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * The floors, measured without the daemon: the same kernel and root image booted with the engine's QEMU
 * command line to a ready agent (floor for create), and a raw ping on its agent channel. The last bare VM
 * stays up ({@link Context#bare}) so that the exec, file and thermal sections interleave their floors (agent
 * exec, agent file read/write/ls, QMP stop/cont alone) with the scenarios they are floors for: A B A B, so
 * that load on a shared host hits both alike. Skipped without {@code --images}.
 */
final class FloorSection implements Section {
    static final String SECTION = "floors (no daemon)";
    static final String BOOT = "bare QEMU boot to agent hello";
    static final String BOOT_EXEC = "bare QEMU boot to first exec true";
    static final String PING = "agent ping round trip";
    static final String QMP_STOP = "QMP stop alone";
    static final String QMP_CONT = "QMP cont alone";
    static final String LS = "agent file ls /usr/bin";

    static String exec(String name) { return "agent exec " + name; }
    static String write(int bytes) { return "agent file write " + Sizes.label(bytes); }
    static String read(int bytes) { return "agent file read " + Sizes.label(bytes); }

    @Override public String title() { return "floors: agent channel without the daemon"; }

    /** Whether bare VMs can be booted (the images and a data dir for their files are known). */
    static boolean available(Options o) { return o.images != null && o.dataDir != null; }

    /** Boots bare VM number i (ending the previous one) and times it; the create section interleaves these with its creates. */
    static void bootBare(Context ctx, int i) throws Exception {
        Options o = ctx.opt();
        Results r = ctx.results();
        Samples boot = r.samples(BOOT) != null ? r.samples(BOOT) : r.add(SECTION, BOOT, null);
        Samples bootExec = r.samples(BOOT_EXEC) != null ? r.samples(BOOT_EXEC) : r.add(SECTION, BOOT_EXEC, null);
        ctx.closeBare();
        Path dir = o.dataDir.resolve("bare" + i);
        long t0 = System.nanoTime();
        ctx.bare = BareVm.boot(o.images, dir, "minimal", o.cpus, o.memoryMb);
        BareAgent.exec(ctx.bare, Context.EXEC_CASES.getFirst().argv());
        bootExec.add(System.nanoTime() - t0);
        boot.add(ctx.bare.bootNanos());
        System.out.printf(Locale.ROOT, "  bare boot #%d: agent hello after %.0f ms, first exec after %.0f ms%n",
                i + 1, ctx.bare.bootNanos() / 1e6, (System.nanoTime() - t0) / 1e6);
    }

    @Override
    public void run(Context ctx) throws Exception {
        Options o = ctx.opt();
        if (!available(o)) {
            ctx.results().note("floors skipped: no --images/--data-dir given");
            System.out.println("  skipped (no --images/--data-dir)");
            return;
        }
        Results r = ctx.results();
        if (ctx.bare == null) bootBare(ctx, 0);
        var agent = ctx.bare.agent();
        Samples ping = r.add(SECTION, PING, null);
        for (int i = 0; i < o.nFloor; i++) ping.add(Timer.time(() -> agent.ping(30, TimeUnit.SECONDS)));
        r.print(SECTION);
    }
}
