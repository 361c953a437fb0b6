package dev.bhatti.cli;

import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The flags of a create request, shared by {@code create} and {@code template create} (which saves them). */
abstract class CreateFlags {
    @Mixin ClientOptions opts;
    @Option(names = "--cpus", description = "Virtual CPUs (default 1)") Double cpus;
    @Option(names = "--memory", description = "Memory in MB (default 512)") Integer memory;
    @Option(names = "--image", description = "Image: a tier (default minimal) or one of yours (bhatti image list)") String image;
    @Option(names = "--disk", paramLabel = "SIZE", description = "Root disk size, like 8G or 2048M (default: the image's own size)")
    String disk;
    @Option(names = {"-e", "--env"}, description = "Environment variable KEY=VALUE for every command (repeatable)")
    Map<String, String> env;
    @Option(names = "--file", paramLabel = "LOCAL:GUEST[:MODE]", description = "Copy a local file into the sandbox (repeatable)")
    List<String> files;
    @Option(names = "--init", arity = "0..1", fallbackValue = "", paramLabel = "SCRIPT",
            description = {"Shell script run once after boot as session 'init' (watch: bhatti shell NAME --session init);",
                    "without a script, the image's ENTRYPOINT and CMD run as that session"})
    String init;
    @Option(names = "--keep-hot", description = "Never pause or snapshot it when idle") boolean keepHot;
    @Option(names = "--secret", paramLabel = "NAME", description = "Give it secret NAME as $NAME (repeatable; see bhatti secret)")
    List<String> secrets;
    @Option(names = "--egress", paramLabel = "all|none", description = "What it may reach outside your sandboxes (default all; none with --allow-host)")
    String egress;
    @Option(names = "--allow-host", paramLabel = "HOST", description = "Reachable even with --egress none: IPv4, CIDR or host name "
            + "(a name also opens its subdomains, for the addresses the sandbox resolves; private ranges only if the server allows them; repeatable)")
    List<String> allowHosts;
    @Option(names = "--volume", paramLabel = "NAME:PATH[:ro]", description = {"Attach volume NAME, mounted at PATH (repeatable);",
            ":ro attaches it read-only (many sandboxes may share it so); see bhatti volume"})
    List<String> volumes;

    /** NAME:PATH[:ro] as the create body's volume. */
    static Map<String, Object> volume(String spec) throws CliException {
        String[] p = spec.split(":", -1);
        boolean ro = p.length == 3 && (p[2].equals("ro") || p[2].equals("rw"));
        if (p.length < 2 || p.length > 3 || p[0].isEmpty() || !p[1].startsWith("/") || (p.length == 3 && !ro)) {
            throw new CliException("--volume must be NAME:PATH or NAME:PATH:ro with an absolute PATH, got " + spec);
        }
        var v = new LinkedHashMap<String, Object>();
        v.put("name", p[0]);
        v.put("mount", p[1]);
        if (p.length == 3 && p[2].equals("ro")) v.put("read_only", true);
        return v;
    }

    static int diskMb(String size) throws CliException { return SizeArg.mb(size, "--disk"); }

    @Option(names = {"-l", "--label"}, paramLabel = "KEY=VALUE", description = "Label the sandbox (repeatable; find it with bhatti list --label KEY=VALUE)")
    List<String> labels;

    /** The create body these flags make (no name, no template). */
    Map<String, Object> body() throws CliException {
        var body = new LinkedHashMap<String, Object>();
        if (egress != null) body.put("egress", egress);
        if (allowHosts != null) body.put("allow_hosts", allowHosts);
        if (cpus != null) body.put("cpus", cpus);
        if (memory != null) body.put("memory_mb", memory);
        if (image != null) body.put("image", image);
        if (env != null) body.put("env", env);
        if (init != null && init.isEmpty()) body.put("run_entrypoint", true);
        else if (init != null) body.put("init", init);
        if (disk != null) body.put("disk_size_mb", diskMb(disk));
        if (keepHot) body.put("keep_hot", true);
        if (secrets != null) body.put("secrets", secrets);
        if (volumes != null) {
            var list = new ArrayList<Map<String, Object>>();
            for (String v : volumes) list.add(volume(v));
            body.put("volumes", list);
        }
        if (files != null) {
            var specs = new ArrayList<Map<String, Object>>();
            for (String f : files) {
                String[] p = f.split(":", 3);
                if (p.length < 2 || p[0].isEmpty() || !p[1].startsWith("/")) {
                    throw new CliException("--file must be LOCAL:GUEST[:MODE] with an absolute GUEST path, got " + f);
                }
                byte[] content;
                try {
                    content = Files.readAllBytes(Path.of(p[0]));
                } catch (IOException e) {
                    throw new CliException("cannot read " + p[0] + ": " + e.getMessage());
                }
                var spec = new LinkedHashMap<String, Object>();
                spec.put("guest_path", p[1]);
                spec.put("content", Base64.getEncoder().encodeToString(content));
                if (p.length == 3) spec.put("mode", p[2]);
                specs.add(spec);
            }
            body.put("files", specs);
        }
        if (labels != null) body.put("labels", Labels.parse(labels));
        return body;
    }
}
