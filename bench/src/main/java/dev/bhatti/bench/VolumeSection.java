package dev.bhatti.bench;

import tools.jackson.databind.JsonNode;

import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

/**
 * Volumes: create, create to first exec with a volume attached (against the same without), the guest's
 * sequential write and read on a volume against its root disk in the same sandbox (O_DIRECT, timed by dd
 * in the guest), and backups to the run's S3 store: a first backup, a second after 1 % of the volume
 * changed, and a restore into a new volume, with the bytes each sent.
 */
final class VolumeSection implements Section {
    static final String SECTION = "volumes";
    private static final Pattern DD_SECONDS = Pattern.compile("copied, ([0-9.]+) s");

    @Override public String title() { return "volumes: create and attach, guest I/O against the root disk, backups (incremental) and restore"; }

    @Override
    public void run(Context ctx) throws Exception {
        Options o = ctx.opt();
        Api api = ctx.api();
        int n = o.quick ? 1 : 3;
        int ioMb = o.quick ? 128 : 512;
        var create = ctx.results().add(SECTION, "volume create 1 GB", null);
        var attach = ctx.results().add(SECTION, "create to first exec, one volume attached (boots: no template with volumes)", FloorSection.BOOT_EXEC);
        var rootWrite = ctx.results().add(SECTION, "guest write " + ioMb + " MB, root disk", null);
        var volWrite = ctx.results().add(SECTION, "guest write " + ioMb + " MB, volume", "guest write " + ioMb + " MB, root disk");
        var rootRead = ctx.results().add(SECTION, "guest read " + ioMb + " MB, root disk", null);
        var volRead = ctx.results().add(SECTION, "guest read " + ioMb + " MB, volume", "guest read " + ioMb + " MB, root disk");
        String sandboxId = null;
        for (int i = 0; i < n; i++) {
            String volume = ctx.name("vol" + i);
            create.add(Timer.time(() -> api.ok("POST", "/volumes", "{\"name\":\"" + volume + "\",\"size_mb\":1024}")));
            long t0 = System.nanoTime();
            JsonNode created = api.ok("POST", "/sandboxes", "{\"name\":\"" + ctx.name("volsb" + i) + "\",\"cpus\":" + o.cpus + ",\"memory_mb\":"
                    + o.memoryMb + ",\"volumes\":[{\"name\":\"" + volume + "\",\"mount\":\"/data\"}]}").json();
            String id = created.path("id").asString();
            api.execTrue(id);
            attach.add(System.nanoTime() - t0);
            rootWrite.add(dd(api, id, "if=/dev/zero of=/workspace/dd bs=1M count=" + ioMb + " oflag=direct"));
            volWrite.add(dd(api, id, "if=/dev/zero of=/data/dd bs=1M count=" + ioMb + " oflag=direct"));
            rootRead.add(dd(api, id, "if=/workspace/dd of=/dev/null bs=1M iflag=direct"));
            volRead.add(dd(api, id, "if=/data/dd of=/dev/null bs=1M iflag=direct"));
            api.execOk(id, List.of("rm", "-f", "/workspace/dd", "/data/dd"));
            if (i == n - 1) {
                sandboxId = id;
            } else {
                api.destroy(id);
                api.ok("DELETE", "/volumes/" + volume, null);
            }
        }
        note(ctx, ioMb, rootWrite, volWrite, "write");
        note(ctx, ioMb, rootRead, volRead, "read");
        backups(ctx, sandboxId, ctx.name("vol" + (n - 1)));
        ctx.results().print(SECTION);
    }

    /** dd's own time in the guest (what the disk path costs, not the exec around it), as nanoseconds. */
    private static long dd(Api api, String id, String args) throws Exception {
        String out = api.execOk(id, List.of("sh", "-c", "dd " + args + " 2>&1 | tail -1"));
        var m = DD_SECONDS.matcher(out);
        if (!m.find()) throw new BenchFailure("dd said: " + out);
        return (long) (Double.parseDouble(m.group(1)) * 1e9);
    }

    private static void note(Context ctx, int mb, Samples root, Samples volume, String what) {
        ctx.results().note(String.format(Locale.ROOT, "guest sequential %s, %d MB, O_DIRECT: root disk (qcow2 layer) %.0f MB/s, volume (raw) %.0f MB/s (p50)",
                what, mb, mb / (root.p50() / 1e9), mb / (volume.p50() / 1e9)));
    }

    /** First backup, second after 1 % changed, restore; skipped when the daemon has no backup store. */
    private static void backups(Context ctx, String sandboxId, String volume) throws Exception {
        Api api = ctx.api();
        Api.Resp probe = api.request("GET", "/volumes/" + volume + "/backups", null);
        if (probe.status() == 503) {
            ctx.results().note("volume backups skipped: the daemon has no backup store (" + probe.body().strip() + ")");
            api.destroy(sandboxId);
            api.ok("DELETE", "/volumes/" + volume, null);
            return;
        }
        int dataMb = ctx.opt().quick ? 128 : 300;
        api.execOk(sandboxId, List.of("sh", "-c", "head -c " + dataMb + "M /dev/urandom > /data/blob && sync"));
        var first = ctx.results().add(SECTION, "backup of a 1 GB volume, " + dataMb + " MB written, first", null);
        var second = ctx.results().add(SECTION, "backup of the same volume, 10 MB (1 %) changed",
                "backup of a 1 GB volume, " + dataMb + " MB written, first");
        var restore = ctx.results().add(SECTION, "restore of that backup into a new volume", null);
        JsonNode b1 = backup(api, volume, first);
        api.execOk(sandboxId, List.of("sh", "-c", "dd if=/dev/urandom of=/data/blob bs=1M count=10 seek=50 conv=notrunc 2>/dev/null && sync"));
        JsonNode b2 = backup(api, volume, second);
        String as = volume + "-restored";
        restore.add(Timer.time(() -> task(api, api.ok("POST", "/volumes/" + volume + "/backups/" + b2.path("id").asString() + "/restore",
                "{\"as\":\"" + as + "\"}").json())));
        ctx.results().note(String.format(Locale.ROOT, "backups of a 1 GB volume: first sent %.1f MB (%d of %d chunks), second (10 MB changed) %.1f MB (%d chunks)",
                b1.path("uploaded_bytes").asLong() / 1048576.0, b1.path("uploaded_chunks").asInt(), b1.path("chunks").asInt(),
                b2.path("uploaded_bytes").asLong() / 1048576.0, b2.path("uploaded_chunks").asInt()));
        api.destroy(sandboxId);
        for (String v : List.of(volume, as)) {
            for (JsonNode b : api.ok("GET", "/volumes/" + v + "/backups", null).json()) {
                api.ok("DELETE", "/volumes/" + v + "/backups/" + b.path("id").asString(), null);
            }
            api.ok("DELETE", "/volumes/" + v, null);
        }
    }

    /** Runs a backup of the volume through its task; returns the backup as listed. */
    private static JsonNode backup(Api api, String volume, Samples samples) throws Exception {
        long t0 = System.nanoTime();
        String id = task(api, api.ok("POST", "/volumes/" + volume + "/backups", null).json());
        samples.add(System.nanoTime() - t0);
        for (JsonNode b : api.ok("GET", "/volumes/" + volume + "/backups", null).json()) if (b.path("id").asString().equals(id)) return b;
        throw new BenchFailure("backup " + id + " is not listed");
    }

    /** Waits for a task; returns its result. */
    private static String task(Api api, JsonNode task) throws Exception {
        long t0 = System.nanoTime();
        String id = task.path("id").asString();
        while (task.path("state").asString().equals("running")) {
            if (System.nanoTime() - t0 > TimeUnit.MINUTES.toNanos(10)) throw new BenchFailure("task " + id + " did not end in 10 minutes");
            Thread.sleep(20); // polling the server's task
            task = api.ok("GET", "/tasks/" + id, null).json();
        }
        if (!task.path("state").asString().equals("done")) throw new BenchFailure("task " + id + ": " + task);
        return task.path("result").asString();
    }
}
