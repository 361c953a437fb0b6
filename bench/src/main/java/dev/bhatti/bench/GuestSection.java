package dev.bhatti.bench;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What the guest's own clock and /proc say, on the shared sandbox: the guest's cost of spawning
 * /bin/true (a static C program, posix_spawn + waitpid), the floor of an exec through the API, measured
 * interleaved with it; then the agent's resident memory after a fixed amount of work.
 */
final class GuestSection implements Section {
    static final String SECTION = "inside the guest";
    static final String SPAWN = "guest spawn /bin/true (posix_spawn + wait, guest clock)";
    static final String EXEC = "exec true (HTTP), against the guest's spawn";
    static final String RSS = "agent RSS";
    /** Longer than the agent's idle trim (IdleTrim.QUIET, 5 s) plus its check interval. */
    private static final long AT_REST_MILLIS = 11_000;
    /** Samples per batch of the spawn program: its own exec is not in them. */
    private static final int BATCH = 5;

    @Override public String title() { return "inside the guest: spawn floor, agent memory"; }

    @Override
    public void run(Context ctx) throws Exception {
        Options o = ctx.opt();
        Results r = ctx.results();
        Api api = ctx.api();
        String id = ctx.mainId;
        int execs = 0;
        if (o.spawnFloor != null && Files.isRegularFile(o.spawnFloor)) {
            api.writeFile(id, "/tmp/spawn-floor", Files.readAllBytes(o.spawnFloor));
            api.execOk(id, List.of("chmod", "755", "/tmp/spawn-floor"));
            Samples spawn = r.add(SECTION, SPAWN, null);
            Samples exec = r.add(SECTION, EXEC, SPAWN);
            api.execOk(id, List.of("/tmp/spawn-floor", "2")); // warm-up
            for (int i = 0; i < Math.max(1, o.nHttp / BATCH); i++) {   // A B A B: load hits both alike
                for (String line : api.execOk(id, List.of("/tmp/spawn-floor", Integer.toString(BATCH))).split("\n")) {
                    spawn.add(Long.parseLong(line.strip()));
                }
                for (int j = 0; j < BATCH; j++) exec.add(Timer.time(() -> api.execTrue(id)));
                execs += BATCH + 1;
            }
        } else {
            r.note("guest spawn floor skipped: no --spawn-floor program (bench/run builds it with cc -static)");
        }
        r.print(SECTION);

        // the agent's memory after a fixed amount of work, on top of what the earlier sections did
        for (; execs < o.agentExecs; execs++) api.execTrue(id);
        byte[] content = Sizes.content(1024 * 1024);
        for (int i = 0; i < o.agentTransfers; i++) {
            if (i % 2 == 0) api.writeFile(id, "/tmp/bench-agent-rss", content);
            else if (!Arrays.equals(api.readFile(id, "/tmp/bench-agent-rss"), content)) throw new BenchFailure("1 MB read back differs");
        }
        Map<String, Long> busy = agentStatus(api, id);
        String after = "after " + o.agentExecs + " execs and " + o.agentTransfers + " file transfers of 1 MB";
        r.measure(RSS + " right " + after, busy.getOrDefault("VmRSS", -1L) / 1024.0, "MiB", null, null);
        Thread.sleep(AT_REST_MILLIS); // the agent trims itself once idle: what a sandbox holds between bursts
        Map<String, Long> status = agentStatus(api, id);
        r.measure(RSS + " " + after + ", at rest", status.getOrDefault("VmRSS", -1L) / 1024.0, "MiB", null, "≤ 24 MiB");
        r.measure("agent RSS, anonymous (heap, metaspace, code, stacks, written class-archive pages)", status.getOrDefault("RssAnon", -1L) / 1024.0, "MiB", null, null);
        r.measure("agent RSS, file-backed (libjvm, CDS, modules, libc)", status.getOrDefault("RssFile", -1L) / 1024.0, "MiB", null, null);
        r.measure("agent threads", status.getOrDefault("Threads", -1L), "threads", null, null);

        // the host's side of the same idle VM: QEMU's resident memory against what the guest has touched
        Map<String, Long> qemu = qemuStatus(id);
        long qemuKb = qemu.getOrDefault("VmRSS", 0L);
        Map<String, Long> mem = meminfo(api, id);
        long touchedKb = mem.getOrDefault("MemTotal", 0L) - mem.getOrDefault("MemFree", 0L);
        if (qemuKb > 0 && touchedKb > 0) {
            r.measure("QEMU host RSS, idle " + o.memoryMb + " MiB guest", qemuKb / 1024.0, "MiB", null, null);
            r.measure("guest memory touched (MemTotal - MemFree, guest)", touchedKb / 1024.0, "MiB", null, null);
            r.measure("QEMU's own memory: host RSS - guest touched", (qemuKb - touchedKb) / 1024.0, "MiB", null, "≤ 96 MiB");
            // a guest with a memory file has its RAM as the host's page cache (file pages the host may write
            // back and drop under pressure); QEMU's own is what is anonymous
            r.measure("QEMU RSS, anonymous (QEMU's heap, TCG code, buffers)", qemu.getOrDefault("RssAnon", -1L) / 1024.0, "MiB", null, null);
            r.measure("QEMU RSS, file-backed (guest RAM in its memory file, libraries)", qemu.getOrDefault("RssFile", -1L) / 1024.0, "MiB", null, null);
        } else {
            r.note("QEMU host RSS not measured: no QEMU process found for sandbox " + id);
        }
    }

    /** The numbers of /proc/PID/status (kB) of the sandbox's QEMU, or none. */
    static Map<String, Long> qemuStatus(String sandboxId) {
        return ProcessHandle.allProcesses()
                .filter(p -> p.info().commandLine().map(c -> c.contains("qemu-system") && c.contains("/sandboxes/" + sandboxId + "/")).orElse(false))
                .findFirst()
                .map(p -> {
                    try {
                        return procNumbers(Files.readString(Path.of("/proc", Long.toString(p.pid()), "status")));
                    } catch (Exception e) {
                        return Map.<String, Long>of(); // gone
                    }
                }).orElse(Map.of());
    }

    /** The guest's /proc/meminfo in kB. */
    static Map<String, Long> meminfo(Api api, String id) throws Exception {
        return procNumbers(api.execOk(id, List.of("cat", "/proc/meminfo")));
    }

    /** The agent's /proc/PID/status numbers (kB for sizes). */
    static Map<String, Long> agentStatus(Api api, String id) throws Exception {
        return procNumbers(api.execOk(id, List.of("sh", "-c", "cat /proc/$(pgrep -o -f agent.jar)/status"), "root"));
    }

    /** The {@code Name: number [kB]} lines of a /proc file (status, meminfo), sizes in kB. */
    static Map<String, Long> procNumbers(String text) {
        var values = new TreeMap<String, Long>();
        for (String line : text.split("\n")) {
            String[] kv = line.split(":\\s*", 2);
            if (kv.length == 2 && kv[1].matches("\\d+( kB)?")) values.put(kv[0], Long.parseLong(kv[1].replace(" kB", "")));
        }
        return values;
    }

    /** The agent's start by the guest's clock: milliseconds from kernel boot and from JVM start to ready. */
    static Map<String, Long> readyTimes(Api api, String id) throws Exception {
        var values = new TreeMap<String, Long>();
        for (String line : new String(api.readFile(id, "/run/bhatti/agent-ready"), StandardCharsets.UTF_8).split("\n")) {
            String[] kv = line.strip().split(" ");
            if (kv.length == 2) values.put(kv[0], Long.parseLong(kv[1]));
        }
        return values;
    }
}
