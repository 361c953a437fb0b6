package dev.bhatti.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import tools.jackson.databind.JsonNode;

import java.io.BufferedOutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/** Files in a sandbox: read to stdout, write from stdin, list a directory. */
@Command(name = "file", description = "Read, write, list and watch files in a sandbox.", mixinStandardHelpOptions = true,
        subcommands = {FileCmd.Read.class, FileCmd.Write.class, FileCmd.Ls.class, FileCmd.Watch.class})
final class FileCmd {

    static String query(String sandbox, String path) {
        return "/sandboxes/" + ApiClient.segment(sandbox) + "/files?path=" + ApiClient.segment(path);
    }

    @Command(name = "read", description = "Print a file (binary-safe) to stdout.", mixinStandardHelpOptions = true)
    static final class Read implements Callable<Integer> {
        @Mixin ClientOptions opts;
        @Parameters(index = "0", paramLabel = "SANDBOX") String sandbox;
        @Parameters(index = "1", paramLabel = "PATH", description = "Guest path; relative paths start in /workspace") String path;
        @Option(names = "--offset", description = "First line to print (1-based)") Long offset;
        @Option(names = "--limit", description = "Lines to print at most") Long limit;
        @Option(names = "--max-bytes", description = "Bytes to print at most") Long maxBytes;

        @Override
        public Integer call() throws Exception {
            var q = new StringBuilder(query(sandbox, path));
            if (offset != null) q.append("&offset=").append(offset);
            if (limit != null) q.append("&limit=").append(limit);
            if (maxBytes != null) q.append("&max_bytes=").append(maxBytes);
            var out = new BufferedOutputStream(System.out, 64 * 1024);
            opts.client().download(q.toString(), out);
            out.flush();
            return 0;
        }
    }

    @Command(name = "write", description = "Replace a file atomically with stdin (parents are created).", mixinStandardHelpOptions = true)
    static final class Write implements Callable<Integer> {
        @Mixin ClientOptions opts;
        @Parameters(index = "0", paramLabel = "SANDBOX") String sandbox;
        @Parameters(index = "1", paramLabel = "PATH", description = "Guest path; relative paths start in /workspace") String path;
        @Option(names = "--mode", description = "Permissions in octal (default 0644)") String mode;
        @Option(names = {"-u", "--user"}, description = "Owner in the guest (default: uid 1000)") String user;

        @Override
        public Integer call() throws Exception {
            String q = query(sandbox, path) + (mode == null ? "" : "&mode=" + ApiClient.segment(mode))
                    + (user == null ? "" : "&user=" + ApiClient.segment(user));
            JsonNode r = opts.client().upload(q, System.in).body();
            if (opts.json) Output.json(r);
            else System.out.println("wrote " + r.path("size").asLong() + " bytes to " + path);
            return 0;
        }
    }

    @Command(name = "ls", description = "List a directory.", mixinStandardHelpOptions = true)
    static final class Ls implements Callable<Integer> {
        @Mixin ClientOptions opts;
        @Parameters(index = "0", paramLabel = "SANDBOX") String sandbox;
        @Parameters(index = "1", paramLabel = "PATH", defaultValue = "/workspace", description = "Guest directory (default /workspace)") String path;

        @Override
        public Integer call() throws Exception {
            JsonNode r = opts.client().get(query(sandbox, path) + "&ls=true").body();
            if (opts.json) {
                Output.json(r);
                return 0;
            }
            JsonNode entries = r.isArray() ? r : r.path("entries");
            var rows = new ArrayList<List<String>>();
            for (JsonNode e : entries) {
                String type = typeLetter(e);
                rows.add(List.of(type + e.path("mode").asString(), Long.toString(e.path("size").asLong()),
                        e.path("mtime").asString(), e.path("name").asString()));
            }
            Output.table(List.of("MODE", "SIZE", "MODIFIED", "NAME"), rows);
            if (r.path("truncated").asBoolean(false)) {
                System.out.println("... " + r.path("total").asLong() + " entries in all; only the first " + rows.size() + " shown");
            }
            return 0;
        }
    }

    @Command(name = "watch", description = {"Print changes under a path (recursive) as they happen, until interrupted.",
            "Lines: TIME EVENT PATH (a directory ends with /); --json prints the API's NDJSON events."},
            mixinStandardHelpOptions = true)
    static final class Watch implements Callable<Integer> {
        @Mixin ClientOptions opts;
        @Parameters(index = "0", paramLabel = "SANDBOX") String sandbox;
        @Parameters(index = "1", paramLabel = "PATH", defaultValue = "/workspace", description = "Guest path (default /workspace)") String path;
        @Option(names = {"-n", "--max-events"}, description = "Stop after this many events") Long maxEvents;
        @Option(names = "--timeout", description = "Stop after this many seconds") Long timeout;

        @Override
        public Integer call() throws Exception {
            if (maxEvents != null && maxEvents < 1) throw new CliException("--max-events must be at least 1");
            if (timeout != null && timeout < 1) throw new CliException("--timeout must be at least 1");
            String q = "/sandboxes/" + ApiClient.segment(sandbox) + "/files/watch?path=" + ApiClient.segment(path)
                    + (maxEvents == null ? "" : "&max_events=" + maxEvents) + (timeout == null ? "" : "&timeout=" + timeout);
            String[] failure = {null};
            opts.client().streamGet(q, event -> {
                if (event.path("type").asString("").equals("error")) failure[0] = event.path("message").asString("");
                if (opts.json) {
                    System.out.println(event);
                } else if (failure[0] == null) {
                    System.out.println(watchLine(event));
                }
                System.out.flush();
            });
            if (failure[0] != null) throw new CliException("the watch ended: " + failure[0]);
            return 0;
        }
    }

    private static final java.time.format.DateTimeFormatter CLOCK = java.time.format.DateTimeFormatter.ofPattern("HH:mm:ss.SSS");

    /** One human line for a watch event: local time, event, path (a directory with a trailing slash). */
    static String watchLine(JsonNode event) {
        String time;
        try {
            time = CLOCK.format(java.time.Instant.parse(event.path("time").asString()).atZone(java.time.ZoneId.systemDefault()));
        } catch (java.time.DateTimeException e) {
            time = event.path("time").asString("");
        }
        String p = event.path("path").asString("");
        return String.format("%s  %-10s  %s%s", time, event.path("type").asString(""), p,
                event.path("is_dir").asBoolean(false) && !p.endsWith("/") ? "/" : "");
    }

    /** The first letter of an ls line for a listing entry's type: d, l, - or ?. */
    static String typeLetter(JsonNode entry) {
        return switch (entry.path("type").asString("")) {
            case "dir" -> "d";
            case "symlink" -> "l";
            case "file" -> "-";
            default -> "?";
        };
    }
}
