package dev.bhatti.cli;

import dev.bhatti.server.store.Ages;

import dev.bhatti.server.DataUsage;
import dev.bhatti.server.quota.Quotas;
import dev.bhatti.server.store.EventRecord;
import dev.bhatti.server.store.SandboxRecord;
import dev.bhatti.server.store.SandboxStatus;
import dev.bhatti.server.store.UserRecord;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;

/** The server at a glance and its event log, read from the data directory (run on the server); metrics and backups of the store. */
@Command(name = "admin", description = {"Server status, every user's sandboxes, the event log and the store's backup (on the",
        "server: they read the data directory), and metrics (through the API, with the admin's key)."},
        mixinStandardHelpOptions = true, subcommands = {AdminCmd.Status.class, AdminCmd.Events.class, AdminSandboxesCmd.class, AdminMetricsCmd.class, AdminBackupCmd.class})
final class AdminCmd {

    static ObjectNode json(EventRecord e) {
        ObjectNode n = ApiClient.JSON.createObjectNode();
        n.put("id", e.id());
        n.put("at", e.at().toString());
        n.put("type", e.type());
        n.put("user", e.userName());
        n.put("sandbox", e.sandboxName());
        n.put("detail", e.detail());
        return n;
    }

    static void printEvents(List<EventRecord> events) {
        var rows = new ArrayList<List<String>>();
        for (EventRecord e : events) {
            rows.add(List.of(e.at().toString(), e.type(), e.userName().isEmpty() ? "-" : e.userName(),
                    e.sandboxName().isEmpty() ? "-" : e.sandboxName(), e.detail()));
        }
        if (rows.isEmpty()) System.out.println("no events");
        else Output.table(List.of("AT", "TYPE", "USER", "SANDBOX", "DETAIL"), rows);
    }

    @Command(name = "status", description = "Sandboxes by state, committed vCPUs and memory, disk used, usage per user.",
            mixinStandardHelpOptions = true)
    static final class Status implements Callable<Integer> {
        @Mixin LocalStore local;

        record Report(Map<String, Integer> byStatus, int cold, int cpusRunning, int memoryRunningMb, long diskBytes,
                      List<UserRecord> users, Map<String, List<SandboxRecord>> sandboxesByUser, Map<String, Integer> snapshotsByUser,
                      Map<String, Long> storageByUser, Map<String, Integer> volumesByUser, List<EventRecord> recent) {}

        @Override
        public Integer call() throws CliException {
            Report r = local.open(store -> {
                var byStatus = new TreeMap<String, Integer>();
                int cold = 0, cpus = 0, memory = 0;
                var byUser = new TreeMap<String, List<SandboxRecord>>();
                var snaps = new TreeMap<String, Integer>();
                var storage = new TreeMap<String, Long>();
                var volumes = new TreeMap<String, Integer>();
                var quotas = new Quotas(store);
                var users = store.users();
                for (UserRecord u : users) {
                    snaps.put(u.name(), store.snapshots(u.id()).size());
                    storage.put(u.name(), quotas.storageUsed(u));
                    volumes.put(u.name(), store.volumes(u.id()).size());
                    byUser.put(u.name(), store.sandboxes(u.id()));
                }
                for (SandboxRecord s : store.allSandboxes()) {
                    byStatus.merge(s.status().wire(), 1, Integer::sum);
                    if (s.status() == SandboxStatus.RUNNING) {
                        cpus += s.cpus();
                        memory += s.memoryMb();
                    }
                    if (DataUsage.isCold(local.dataDir, s.id())) cold++;
                }
                long disk = DataUsage.diskBytes(local.dataDir);
                var recent = store.events(new EventRecord.Filter("", "", "", Instant.EPOCH, 10));
                return new Report(byStatus, cold, cpus, memory, disk, users, byUser, snaps, storage, volumes, recent);
            });
            if (local.json) {
                ObjectNode n = ApiClient.JSON.createObjectNode();
                ObjectNode states = n.putObject("sandboxes");
                r.byStatus().forEach(states::put);
                n.put("cold", r.cold());
                n.put("cpus_running", r.cpusRunning());
                n.put("memory_running_mb", r.memoryRunningMb());
                n.put("disk_bytes", r.diskBytes());
                n.put("host_memory_available_mb", memAvailableMb());
                n.put("load_average", loadAverage());
                ArrayNode users = n.putArray("users");
                for (UserRecord u : r.users()) {
                    var list = r.sandboxesByUser().get(u.name());
                    ObjectNode un = users.addObject();
                    un.put("name", u.name());
                    un.put("sandboxes", list.size());
                    un.put("max_sandboxes", u.maxSandboxes());
                    un.put("cpus", list.stream().mapToInt(SandboxRecord::cpus).sum());
                    un.put("max_cpus", u.maxCpus());
                    un.put("memory_mb", list.stream().mapToInt(SandboxRecord::memoryMb).sum());
                    un.put("max_memory_mb", u.maxMemoryMb());
                    un.put("snapshots", r.snapshotsByUser().get(u.name()));
                    un.put("max_snapshots", u.maxSnapshots());
                    un.put("volumes", r.volumesByUser().get(u.name()));
                    un.put("storage_mb", r.storageByUser().get(u.name()) >> 20);
                    un.put("max_storage_mb", u.maxStorageMb());
                }
                ArrayNode ev = n.putArray("recent_events");
                r.recent().forEach(e -> ev.add(json(e)));
                Output.json(n);
                return 0;
            }
            var states = new StringBuilder();
            r.byStatus().forEach((k, v) -> states.append(states.isEmpty() ? "" : ", ").append(v).append(' ').append(k));
            System.out.println("host:       load " + loadAverage() + ", " + memAvailableMb() + " MB memory available");
            System.out.println("sandboxes:  " + (states.isEmpty() ? "none" : states) + (r.cold() > 0 ? " (" + r.cold() + " cold, on disk)" : ""));
            System.out.println("committed:  " + r.cpusRunning() + " vCPUs, " + r.memoryRunningMb() + " MB in running sandboxes");
            System.out.printf("disk:       %.1f MB in sandboxes, snapshots and volumes%n", r.diskBytes() / 1048576.0);
            System.out.println();
            var rows = new ArrayList<List<String>>();
            for (UserRecord u : r.users()) {
                var list = r.sandboxesByUser().get(u.name());
                rows.add(List.of(u.name(), list.size() + "/" + u.maxSandboxes(), list.stream().mapToInt(SandboxRecord::cpus).sum() + "/" + u.maxCpus(),
                        list.stream().mapToInt(SandboxRecord::memoryMb).sum() + "/" + u.maxMemoryMb() + "MB",
                        r.snapshotsByUser().get(u.name()) + "/" + u.maxSnapshots(), Integer.toString(r.volumesByUser().get(u.name())),
                        (r.storageByUser().get(u.name()) >> 20) + "/" + u.maxStorageMb() + "MB"));
            }
            Output.table(List.of("USER", "SANDBOXES", "CPUS", "MEMORY", "SNAPSHOTS", "VOLUMES", "STORAGE"), rows);
            System.out.println();
            System.out.println("recent events:");
            printEvents(r.recent());
            return 0;
        }

        static long memAvailableMb() {
            try {
                for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
                    if (line.startsWith("MemAvailable:")) return Long.parseLong(line.replaceAll("\\D", "")) / 1024;
                }
            } catch (IOException | NumberFormatException e) {
                // not Linux
            }
            return -1;
        }

        static String loadAverage() {
            try {
                String[] p = Files.readString(Path.of("/proc/loadavg")).split(" ");
                return p[0] + " " + p[1] + " " + p[2];
            } catch (IOException | RuntimeException e) {
                return "?";
            }
        }
    }

    @Command(name = "events", description = "The event log, newest first: who did what, when.", mixinStandardHelpOptions = true)
    static final class Events implements Callable<Integer> {
        @Mixin LocalStore local;
        @Option(names = "--type", description = "Only types starting with this (sandbox., thermal., auth.failed ...)") String type = "";
        @Option(names = "--user", description = "Only this user's") String user = "";
        @Option(names = "--sandbox", description = "Only this sandbox's") String sandbox = "";
        @Option(names = "--since", description = "30m, 24h, 7d or an ISO date/time (default 24h)") String since = "24h";
        @Option(names = "--limit", description = "At most this many (default 50)") int limit = 50;

        @Override
        public Integer call() throws CliException {
            if (limit < 1 || limit > 10_000) throw new CliException("--limit must be from 1 to 10000");
            Instant from = since(since);
            List<EventRecord> events = local.open(store -> store.events(new EventRecord.Filter(type, user, sandbox, from, limit)));
            if (local.json) {
                ArrayNode arr = ApiClient.JSON.createArrayNode();
                events.forEach(e -> arr.add(json(e)));
                Output.json(arr);
            } else {
                printEvents(events);
            }
            return 0;
        }

        static Instant since(String s) throws CliException {
            var ago = Ages.before(s, Instant.now());
            if (ago.isPresent()) return ago.get();
            try {
                return s.contains("T") ? Instant.parse(s) : LocalDate.parse(s).atStartOfDay(ZoneOffset.UTC).toInstant();
            } catch (DateTimeParseException e) {
                throw new CliException("--since must be like 30m, 24h, 7d, 2026-12-01 or 2026-12-01T10:00:00Z, got " + s);
            }
        }
    }
}
