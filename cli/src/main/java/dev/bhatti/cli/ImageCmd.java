package dev.bhatti.cli;

import dev.bhatti.server.image.ImageShares;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import tools.jackson.databind.JsonNode;

import java.io.IOException;
import java.io.InputStream;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/** Images: tiers, and the user's own images pulled from registries, which any sandbox can boot. */
@Command(name = "image", description = {"Images sandboxes boot from: the built-in tiers, and your own, pulled from any",
        "OCI registry (Docker Hub, ghcr.io, your own). Create a sandbox of one with: bhatti create --image NAME"},
        mixinStandardHelpOptions = true,
        subcommands = {ImageCmd.ListCmd.class, ImageCmd.Pull.class, ImageCmd.Import.class, ImageCmd.Save.class, ImageCmd.Inspect.class, ImageCmd.Delete.class,
                ImageCmd.Share.class, ImageCmd.Unshare.class})
final class ImageCmd {

    static String size(long bytes) {
        if (bytes >= 10L << 30) return (bytes >> 30) + " GB";
        if (bytes >= 10L << 20) return (bytes >> 20) + " MB";
        return String.format("%.1f MB", bytes / 1048576.0);
    }

    @Command(name = "list", aliases = "ls", description = "List the tiers, your images and those shared with you.",
            mixinStandardHelpOptions = true)
    static final class ListCmd implements Callable<Integer> {
        @Mixin ClientOptions opts;

        @Override
        public Integer call() throws CliException {
            JsonNode list = opts.client().get("/images").body();
            if (opts.json) {
                Output.json(list);
                return 0;
            }
            var rows = new ArrayList<List<String>>();
            for (JsonNode i : list) {
                String owner = i.path("owner").asString("");
                rows.add(List.of(Output.text(i, "name"), Output.text(i, "source"), size(i.path("size_bytes").asLong()),
                        owner.isEmpty() ? "-" : owner + (i.path("shared").asBoolean() ? " (shared)" : ""),
                        i.has("created_at") ? Output.age(i.path("created_at").asString("")) : "-"));
            }
            Output.table(List.of("NAME", "SOURCE", "SIZE", "OWNER", "CREATED"), rows);
            return 0;
        }
    }

    @Command(name = "pull", description = {"Pull an image from an OCI registry; the server downloads and converts it.",
            "Shows progress per layer on a terminal and exits when the image is ready (Ctrl-C cancels the pull).",
            "A second pull of the same layers downloads nothing; an interrupted one resumes."},
            mixinStandardHelpOptions = true)
    static final class Pull implements Callable<Integer> {
        @Mixin ClientOptions opts;
        @Parameters(paramLabel = "REFERENCE", description = "Like python:3.12, ghcr.io/org/devbox:1 or repo@sha256:...") String reference;
        @Option(names = "--name", description = "Name of the image (default: the repository's last part and the tag, like python:3.12)")
        String name;
        @Option(names = "--auth", paramLabel = "USER:TOKEN", description = "Credentials for the registry (a password or a token)")
        String auth;
        @Option(names = "--platform", paramLabel = "OS/ARCH[/VARIANT]", description = "Which image of a multi-platform index (default: the server's)")
        String platform;
        @Option(names = "--detach", description = "Return once the pull has started; follow it with GET /tasks/ID") boolean detach;

        @Override
        public Integer call() throws CliException, InterruptedException {
            var body = new LinkedHashMap<String, Object>();
            body.put("reference", reference);
            if (name != null) body.put("name", name);
            if (auth != null) body.put("auth", auth);
            if (platform != null) body.put("platform", platform);
            ApiClient client = opts.client();
            JsonNode task = client.post("/images/pull", body).body();
            String id = task.path("id").asString();
            if (detach) {
                if (opts.json) Output.json(task);
                else System.out.println("pulling " + reference + " as task " + id);
                return 0;
            }
            task = TaskFollow.follow(client, task, !opts.json && System.console() != null, "layers");
            if (opts.json) Output.json(task);
            String state = task.path("state").asString();
            if (!state.equals("done")) {
                throw new CliException("pull of " + reference + " " + state + (task.has("error") ? ": " + task.path("error").asString() : ""));
            }
            if (!opts.json) {
                String image = task.path("result").asString();
                System.out.println("image/" + image + " ready (" + size(task.path("bytes_total").asLong()) + " downloaded)");
                System.out.println("  boot it: bhatti create --image " + image);
            }
            return 0;
        }
    }

    @Command(name = "inspect", description = "Show an image: source, digest, size and config (env, workdir, user, entrypoint, cmd).",
            mixinStandardHelpOptions = true)
    static final class Inspect implements Callable<Integer> {
        @Mixin ClientOptions opts;
        @Parameters(paramLabel = "IMAGE", description = "Image name") String image;

        @Override
        public Integer call() throws CliException {
            JsonNode i = opts.client().get("/images/" + ApiClient.segment(image)).body();
            if (opts.json) {
                Output.json(i);
                return 0;
            }
            for (String f : List.of("name", "source", "digest", "owner", "created_at")) System.out.printf("%-12s %s%n", f + ":", Output.text(i, f));
            System.out.printf("%-12s %s%n", "size:", size(i.path("size_bytes").asLong()));
            JsonNode c = i.path("config");
            var env = new ArrayList<String>();
            for (Map.Entry<String, JsonNode> e : c.path("env").properties()) env.add(e.getKey() + "=" + e.getValue().asString());
            System.out.printf("%-12s %s%n", "env:", String.join(" ", env));
            System.out.printf("%-12s %s%n", "workdir:", c.path("workdir").asString(""));
            System.out.printf("%-12s %s%n", "user:", c.path("user").asString(""));
            System.out.printf("%-12s %s%n", "entrypoint:", c.path("entrypoint").toString());
            System.out.printf("%-12s %s%n", "cmd:", c.path("cmd").toString());
            System.out.printf("%-12s %d%n", "layers:", i.path("layers").size());
            for (JsonNode l : i.path("layers")) System.out.printf("  %s%n", l.asString());
            return 0;
        }
    }

    @Command(name = "delete", aliases = "rm", description = {"Delete one of your images.",
            "Sandboxes and snapshots made from it keep working: they hold their own reference to its file."},
            mixinStandardHelpOptions = true)
    static final class Delete implements Callable<Integer> {
        @Mixin ClientOptions opts;
        @Option(names = {"-y", "--yes"}, description = "Do not ask for confirmation") boolean yes;
        @Parameters(paramLabel = "IMAGE", description = "Image name") String image;

        @Override
        public Integer call() throws CliException {
            if (!Confirm.proceed(yes, "delete image " + image, "delete image " + image + "?")) return 1;
            JsonNode r = opts.client().delete("/images/" + ApiClient.segment(image)).body();
            if (opts.json) Output.json(r);
            else System.out.println("image/" + image + " deleted");
            return 0;
        }
    }

    @Command(name = "import", description = {"Import an image from a `docker save` or OCI archive: --tar FILE ('-' for stdin),",
            "or REFERENCE, which runs `docker save REFERENCE` here and streams it (Docker must be installed)."},
            mixinStandardHelpOptions = true)
    static final class Import implements Callable<Integer> {
        @Mixin ClientOptions opts;
        @Parameters(paramLabel = "REFERENCE", arity = "0..1", description = "A local Docker image (like my-app:latest)") String reference;
        @Option(names = "--tar", paramLabel = "FILE", description = "The archive (docker save, OCI layout tar, gzipped or not)") String tar;
        @Option(names = "--name", description = "Name of the image (default: REFERENCE)") String name;

        @Override
        public Integer call() throws CliException, InterruptedException {
            if ((tar == null) == (reference == null)) throw new CliException("give either --tar FILE or a REFERENCE to docker save");
            String imageName = name != null ? name : reference;
            if (imageName == null) throw new CliException("--name is required with --tar");
            String path = "/images/import?name=" + URLEncoder.encode(imageName, StandardCharsets.UTF_8);
            JsonNode i;
            if (tar != null) {
                try (InputStream in = tar.equals("-") ? System.in : Files.newInputStream(Path.of(tar))) {
                    i = opts.client().upload("POST", path, in).body();
                } catch (IOException e) {
                    throw new CliException("cannot read " + tar + ": " + e.getMessage());
                }
            } else {
                i = dockerSave(reference, in -> opts.client().upload("POST", path, in).body());
            }
            if (opts.json) Output.json(i);
            else {
                System.out.println("image/" + Output.text(i, "name") + " imported (" + size(i.path("size_bytes").asLong()) + ")");
                System.out.println("  boot it: bhatti create --image " + Output.text(i, "name"));
            }
            return 0;
        }

        private interface Upload {
            JsonNode send(InputStream archive) throws CliException;
        }

        /** Streams `docker save REFERENCE` to the server; its failure (no Docker, no such image) is said as such. */
        private static JsonNode dockerSave(String reference, Upload upload) throws CliException, InterruptedException {
            Process p;
            try {
                p = new ProcessBuilder("docker", "save", reference).redirectError(ProcessBuilder.Redirect.PIPE).start();
            } catch (IOException e) {
                throw new CliException("cannot run docker save (is Docker installed?): " + e.getMessage() + "; or give --tar FILE");
            }
            try {
                JsonNode result = upload.send(p.getInputStream());
                p.waitFor();
                return result;
            } catch (CliException e) {
                p.destroy();
                String err = readQuietly(p);
                if (p.waitFor() != 0 && !err.isBlank()) throw new CliException("docker save " + reference + " failed: " + err.strip());
                throw e;
            }
        }

        private static String readQuietly(Process p) {
            try {
                return new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                return "";
            }
        }
    }

    @Command(name = "save", description = {"Save a sandbox's root disk as your new image (private to you).",
            "Works hot, warm or cold; a hot sandbox stands still only while its disk is copied."},
            mixinStandardHelpOptions = true)
    static final class Save implements Callable<Integer> {
        @Mixin ClientOptions opts;
        @Parameters(paramLabel = "SANDBOX", description = "Name or id of the sandbox") String sandbox;
        @Option(names = "--name", required = true, description = "Name of the new image (lowercase letters, digits, . _ : -)") String name;

        @Override
        public Integer call() throws CliException {
            if (!opts.json && System.console() != null) System.err.println("saving " + sandbox + "...");
            JsonNode i = opts.client().post("/sandboxes/" + ApiClient.segment(sandbox) + "/save-image", Map.of("name", name)).body();
            if (opts.json) Output.json(i);
            else {
                System.out.println("image/" + Output.text(i, "name") + " saved from " + sandbox + " (" + size(i.path("size_bytes").asLong()) + ")");
                System.out.println("  boot it: bhatti create --image " + Output.text(i, "name"));
            }
            return 0;
        }
    }

    @Command(name = "share", description = {"Share an image with named users (on the server, as root: like `bhatti user`).",
            "They can boot it and see it in their image list; only its owner can delete it."},
            mixinStandardHelpOptions = true)
    static final class Share implements Callable<Integer> {
        @Mixin LocalStore local;
        @Parameters(paramLabel = "IMAGE", description = "Image name") String image;
        @Option(names = "--owner", description = "The image's owner, when several users have an image of that name") String owner;
        @Option(names = "--user", description = "User to share with (repeatable)") List<String> users = new ArrayList<>();
        @Option(names = "--list", description = "Show who the image is shared with") boolean list;

        @Override
        public Integer call() throws CliException {
            if (users.isEmpty() && !list) throw new CliException("say who to share " + image + " with: --user NAME (or --list)");
            List<String> now = local.open(store -> {
                var shares = new ImageShares(store);
                var img = shares.find(image, owner);
                return users.isEmpty() ? shares.shares(img) : shares.share(img, users);
            });
            print(local.json, image, now);
            return 0;
        }
    }

    @Command(name = "unshare", description = "Stop sharing an image with users (their sandboxes made from it keep running).",
            mixinStandardHelpOptions = true)
    static final class Unshare implements Callable<Integer> {
        @Mixin LocalStore local;
        @Parameters(paramLabel = "IMAGE", description = "Image name") String image;
        @Option(names = "--owner", description = "The image's owner, when several users have an image of that name") String owner;
        @Option(names = "--user", required = true, description = "User to stop sharing with (repeatable)") List<String> users;

        @Override
        public Integer call() throws CliException {
            List<String> now = local.open(store -> {
                var shares = new ImageShares(store);
                return shares.unshare(shares.find(image, owner), users);
            });
            print(local.json, image, now);
            return 0;
        }
    }

    private static void print(boolean json, String image, List<String> sharedWith) {
        if (json) Output.json(ApiClient.JSON.valueToTree(Map.of("image", image, "shared_with", sharedWith)));
        else System.out.println("image/" + image + (sharedWith.isEmpty() ? " is shared with nobody" : " is shared with " + String.join(", ", sharedWith)));
    }
}
