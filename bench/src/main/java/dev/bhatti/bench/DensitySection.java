package dev.bhatti.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Locale;
import java.util.Map;
import java.util.Random;

/**
 * How many idle sandboxes of the run's memory size this host holds, hot, warm and cold, with exec still
 * answering. Sandboxes are created one by one (from the booted template), each followed by an exec in a
 * random one already held, until {@code --density N} are held, the host's available memory falls under a
 * tenth, or a create fails. Hot and warm cost host memory (QEMU's resident set, the guest's RAM included);
 * cold ones cost disk only. What the host would hold beyond N is extrapolated from the measured cost per
 * sandbox, and said so. The sandboxes belong to a user of their own (the admin's quota allows 16 vCPUs).
 */
final class DensitySection implements Section {
    static final String SECTION = "density";
    private static final int WAKE_CHECKS = 3;

    @Override public String title() { return "density: idle sandboxes held at once, hot, warm and cold, exec answering"; }

    @Override
    public void run(Context ctx) throws Exception {
        Options o = ctx.opt();
        Results r = ctx.results();
        int n = o.density > 0 ? o.density : 8;
        int mb = o.memoryMb;
        String section = SECTION + " " + mb + "M";
        String user = o.prefix + "-density";
        String created = ctx.cli().output("user", "create", "--name", user, "--max-sandboxes", Integer.toString(n),
                "--max-cpus", Integer.toString(n), "--max-memory", Integer.toString(n * mb), "--json", "--data-dir", o.dataDir.toString());
        Api api = new Api(o.url, Api.JSON.readTree(created).path("api_key").asString());
        long memTotalKb = hostMeminfo().get("MemTotal");
        var ids = new ArrayList<String>();
        var random = new Random(42);
        Samples adding = r.add(section, "exec true in a random held sandbox, after each create", null);
        String stopped = "reached --density " + n;
        try {
            for (int i = 0; i < n; i++) {
                if (hostMeminfo().get("MemAvailable") < memTotalKb / 10) {
                    stopped = "the host's available memory fell under 10 %";
                    break;
                }
                try {
                    ids.add(api.create(o.prefix + "-d" + i, 1, mb, true));
                } catch (BenchFailure e) {
                    stopped = "a create failed: " + e.getMessage();
                    break;
                }
                String pick = ids.get(random.nextInt(ids.size()));
                adding.add(Timer.time(() -> api.execTrue(pick)));
            }
            if (ids.isEmpty()) throw new BenchFailure("density: no sandbox could be created (" + stopped + ")");
            int held = ids.size();
            Samples hotExec = r.add(section, "exec true in each of the " + held + " hot sandboxes", null);
            for (String id : ids) hotExec.add(Timer.time(() -> api.execTrue(id)));
            long rssKb = 0, anonKb = 0;
            for (String id : ids) {
                Map<String, Long> s = GuestSection.qemuStatus(id);
                rssKb += s.getOrDefault("VmRSS", 0L);
                anonKb += s.getOrDefault("RssAnon", 0L);
            }
            double perMiB = rssKb / 1024.0 / held;
            r.measure("hot sandboxes held, each answering exec", held, "sandboxes", null, null);
            r.measure("host RSS per hot sandbox (QEMU, guest RAM in it)", perMiB, "MiB", null, null);
            r.measure("QEMU's anonymous memory per hot sandbox", anonKb / 1024.0 / held, "MiB", null, null);
            r.measure("hot sandboxes this host holds (90 % of MemTotal ÷ RSS each, extrapolated)", Math.floor(0.9 * memTotalKb / 1024.0 / perMiB), "sandboxes", null, null);

            for (String id : ids) api.post(id, "pause");
            long warmKb = 0;
            for (String id : ids) warmKb += GuestSection.qemuStatus(id).getOrDefault("VmRSS", 0L);
            r.measure("host RSS per warm sandbox", warmKb / 1024.0 / held, "MiB", null, null);
            Samples warmWake = r.add(section, "warm resume + exec true, " + held + " held warm", null);
            for (int i = 0; i < Math.min(WAKE_CHECKS, held); i++) {
                String id = ids.get(i);
                warmWake.add(Timer.time(() -> api.execTrue(id)));
                api.post(id, "pause");
            }

            for (String id : ids) api.post(id, "stop");
            long diskBytes = 0;
            long qemus = 0;
            for (String id : ids) {
                diskBytes += api.inspect(id).path("disk_bytes").asLong(0);
                if (!GuestSection.qemuStatus(id).isEmpty()) qemus++;
            }
            double diskPerMiB = diskBytes / 1048576.0 / held;
            long free = Files.getFileStore(o.dataDir).getUsableSpace();
            r.measure("QEMU processes left with " + held + " cold", qemus, "processes", null, null);
            r.measure("disk per cold sandbox (disk layer and memory)", diskPerMiB, "MiB", null, null);
            r.measure("more cold sandboxes the data dir's free disk holds (extrapolated)", Math.floor(free / 1048576.0 / diskPerMiB), "sandboxes", null, null);
            Samples coldWake = r.add(section, "cold wake by exec true, " + held + " held cold", null);
            for (int i = 0; i < Math.min(WAKE_CHECKS, held); i++) {
                String id = ids.get(i);
                coldWake.add(Timer.time(() -> api.execTrue(id)));
            }
            r.note(String.format(Locale.ROOT, "density, %d MiB guests: %d held (%s); host MemTotal %.1f GiB",
                    mb, held, stopped, memTotalKb / 1048576.0));
        } finally {
            for (String id : ids) {
                try {
                    api.destroy(id);
                } catch (Exception e) {
                    System.err.println("density: could not destroy " + id + ": " + e);
                }
            }
            try {
                ctx.cli().output("user", "delete", user, "-y", "--data-dir", o.dataDir.toString());
            } catch (Exception e) {
                System.err.println("density: could not delete user " + user + ": " + e.getMessage());
            }
        }
        r.print(section);
    }

    /** The host's /proc/meminfo in kB. */
    static Map<String, Long> hostMeminfo() throws Exception {
        return GuestSection.procNumbers(Files.readString(Path.of("/proc/meminfo")));
    }

}
