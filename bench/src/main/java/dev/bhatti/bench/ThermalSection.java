package dev.bhatti.bench;

import java.util.List;
import java.util.Locale;

/**
 * Thermal states of a keep-hot guest of one memory size: pause and resume (warm), warm resume + exec,
 * stop (snapshot to disk) and start (cold), cold resume + exec, named snapshots. Floors: QMP stop/cont
 * alone on the bare VM; for stop and start, the engine's own suspend and restore times from the daemon log.
 */
final class ThermalSection implements Section {
    static final String SECTION = "thermal";
    private final int mb;

    ThermalSection(int mb) { this.mb = mb; }

    /** The QMP floors are shared by every guest size (QMP stop/cont does not depend on it): one scenario each. */
    private static Samples floorSamples(Results r, String label) {
        Samples s = r.samples(label);
        return s != null ? s : r.add(FloorSection.SECTION, label, null);
    }

    @Override public String title() { return "thermal states, " + mb + " MiB guest"; }

    @Override
    public void run(Context ctx) throws Exception {
        Options o = ctx.opt();
        Results r = ctx.results();
        Api api = ctx.api();
        String section = SECTION + " " + mb + "M";
        // The shared sandbox (keep-hot too) serves when it has this size: one boot less. The thermal section runs
        // after every section that needs it hot, and leaves it in place for the proxy section.
        boolean shared = mb == o.memoryMb && ctx.mainId != null;
        String id = shared ? ctx.mainId : api.create(ctx.name("t" + mb), o.cpus, mb, true);
        api.execTrue(id);
        var log = new DaemonLog(o.daemonLog, id);
        String M = " " + mb + "M";
        var bare = ctx.bare;
        Samples qmpStop = bare == null ? null : floorSamples(r, FloorSection.QMP_STOP);
        Samples qmpCont = bare == null ? null : floorSamples(r, FloorSection.QMP_CONT);
        Samples pause = r.add(section, "pause" + M, FloorSection.QMP_STOP);
        Samples resume = r.add(section, "resume" + M, FloorSection.QMP_CONT);
        Samples hot = r.add(section, "exec true, hot" + M, FloorSection.exec("true"));
        Samples warm = r.add(section, "warm resume + exec true" + M, "exec true, hot" + M);
        for (int i = 0; i < o.nPause; i++) {
            if (bare != null) {         // the floor, interleaved
                qmpStop.add(Timer.time(bare::qmpStop));
                qmpCont.add(Timer.time(bare::qmpCont));
            }
            pause.add(Timer.time(() -> api.post(id, "pause")));
            resume.add(Timer.time(() -> api.post(id, "resume")));
            hot.add(Timer.time(() -> api.execTrue(id)));
            api.post(id, "pause");
            warm.add(Timer.time(() -> api.execTrue(id))); // wakes it transparently
        }
        String suspend = "engine suspend" + M + " (daemon log)";
        String restore = "engine restore" + M + " (daemon log)";
        Samples stop = r.add(section, "stop" + M + " (snapshot to disk)", suspend);
        Samples start = r.add(section, "start" + M + " (API call)", restore);
        Samples cold = r.add(section, "cold resume + exec true" + M, restore);
        Samples coldWake = r.add(section, "cold wake by exec true" + M, restore);
        long onDisk = 0;
        for (int i = 0; i < o.nCold; i++) {
            stop.add(Timer.time(() -> api.post(id, "stop")));
            onDisk = Math.max(onDisk, api.inspect(id).path("disk_bytes").asLong(0));
            long t0 = System.nanoTime();
            api.post(id, "start");
            start.add(System.nanoTime() - t0);
            api.execTrue(id);
            cold.add(System.nanoTime() - t0);
            api.post(id, "stop");
            coldWake.add(Timer.time(() -> api.execTrue(id)));
        }
        Samples snap = r.add(section, "snapshot create" + M + " (hot)", suspend);
        Samples snapResume = r.add(section, "snapshot resume + exec" + M, restore);
        long snapBytes = 0;
        for (int i = 0; i < Math.max(1, o.nCold / 2); i++) {
            String name = ctx.name("t" + mb + "-s" + i);
            long t0 = System.nanoTime();
            var s = api.ok("POST", "/sandboxes/" + id + "/checkpoint", "{\"name\":\"" + name + "\"}");
            snap.add(System.nanoTime() - t0);
            snapBytes = s.json().path("size_bytes").asLong(0);
            long t1 = System.nanoTime();
            String clone = api.ok("POST", "/snapshots/" + name + "/resume", "{\"name\":\"" + name + "-c\"}").json().path("id").asString();
            api.execTrue(clone);
            snapResume.add(System.nanoTime() - t1);
            api.destroy(clone);
            api.ok("DELETE", "/snapshots/" + name, null);
        }
        if (!shared) api.destroy(id);
        for (var e : List.of(
                new DaemonLog.Timing("engine pause" + M + " (daemon log, QMP stop)", "paused in (\\d+) us", 1_000),
                new DaemonLog.Timing("engine resume" + M + " (daemon log, QMP cont)", "resumed in (\\d+) us", 1_000),
                new DaemonLog.Timing(suspend, "suspended to disk in (\\d+) ms", 1_000_000),
                new DaemonLog.Timing(restore, "restored in (\\d+) ms", 1_000_000))) {
            Samples s = r.add(section, e.label(), null);
            log.collect(e, s);
        }
        r.note(String.format(Locale.ROOT, "%d MiB guest: a cold sandbox takes %.1f MB on disk (disk layer and memory), a named snapshot %.1f MB",
                mb, onDisk / 1048576.0, snapBytes / 1048576.0));
        r.print(section);
    }
}
