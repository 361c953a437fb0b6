package dev.bhatti.server.sandbox;

import dev.bhatti.engine.Guest;
import dev.bhatti.engine.EngineException;
import dev.bhatti.engine.SessionChannel;
import dev.bhatti.engine.SessionOpen;
import dev.bhatti.server.error.DomainException;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.ArrayList;

/**
 * The configuration a create request gives a sandbox, validated up front (before any VM boots) and
 * applied once its agent answers: environment, files, then the init script as session "init".
 */
record BootConfig(Map<String, String> env, Map<String, String> secrets, List<File> files, List<String> init, ImageLookup.UserImage image) {

    static final String ENVIRON = "/etc/bhatti/environ";
    /** The image's WORKDIR and USER, the defaults of every command (the agent reads it beside ENVIRON). */
    static final String IMAGE_DEFAULTS = "/etc/bhatti/image";
    /** On the guest's /run, a tmpfs: secret values live in guest memory only, never on its disk. */
    static final String SECRETS = "/run/bhatti/secrets";
    static final int MAX_FILES = 100;
    static final int MAX_ENV = 200;

    record File(String path, byte[] content, int mode) {}

    static BootConfig of(SandboxService.CreateRequest req, Map<String, String> secrets) {
        var env = new LinkedHashMap<String, String>();
        if (req.env() != null) {
            if (req.env().size() > MAX_ENV) throw DomainException.invalid("at most " + MAX_ENV + " environment variables");
            req.env().forEach((k, v) -> {
                if (k == null || !k.matches("[A-Za-z_][A-Za-z0-9_]{0,127}")) {
                    throw DomainException.invalid("invalid environment variable name: " + Limits.printableKey(k));
                }
                if (v == null || v.indexOf('\0') >= 0) throw DomainException.invalid("invalid value for " + k);
                env.put(k, v);
            });
        }
        var files = new ArrayList<File>();
        if (req.files() != null) {
            if (req.files().size() > MAX_FILES) throw DomainException.invalid("at most " + MAX_FILES + " files");
            for (var f : req.files()) {
                if (f == null || f.guestPath() == null || !f.guestPath().startsWith("/") || f.guestPath().indexOf('\0') >= 0
                        || f.guestPath().length() > 4096) {
                    throw DomainException.invalid("every file needs an absolute guest_path");
                }
                byte[] content;
                try {
                    content = f.content() == null ? new byte[0] : Base64.getDecoder().decode(f.content());
                } catch (IllegalArgumentException e) {
                    throw DomainException.invalid("content of " + Limits.printable(f.guestPath()) + " is not valid base64");
                }
                files.add(new File(f.guestPath(), content, Limits.fileMode(f.mode())));
            }
        }
        String init = req.init();
        if (init != null && (init.isBlank() || init.indexOf('\0') >= 0)) throw DomainException.invalid("init must be a non-empty script");
        return new BootConfig(env, secrets, files, init == null ? null : List.of("sh", "-c", init), null);
    }

    /** The same configuration on an image that is not a tier: its ENV comes first, the request's wins. */
    BootConfig withImage(ImageLookup.UserImage image) {
        var merged = new LinkedHashMap<>(image.env());
        merged.putAll(env);
        return new BootConfig(merged, secrets, files, init, image);
    }

    /** The image's ENTRYPOINT and CMD as the init session (like `docker run IMAGE`), instead of a script. */
    BootConfig withEntrypoint(String imageName, ImageLookup.UserImage image) {
        if (init != null) throw DomainException.invalid("give either an init script or run_entrypoint, not both");
        if (image == null) throw DomainException.invalid(imageName + " is a built-in image: it has no ENTRYPOINT or CMD to run");
        var argv = new ArrayList<String>(image.entrypoint());
        argv.addAll(image.cmd());
        if (argv.isEmpty()) throw DomainException.invalid("image " + imageName + " has neither ENTRYPOINT nor CMD; give an init script instead");
        return new BootConfig(env, secrets, files, List.copyOf(argv), image);
    }

    void apply(Guest guest) throws EngineException {
        // Readable by root only; the agent (root) hands both to each command.
        if (!env.isEmpty()) guest.writeFile(ENVIRON, 0600, "root", new ByteArrayInputStream(environ(env)));
        if (image != null && !(image.workdir().isEmpty() && image.user().isEmpty())) {
            var defaults = new LinkedHashMap<String, String>();
            if (!image.workdir().isEmpty()) defaults.put("WORKDIR", image.workdir());
            if (!image.user().isEmpty()) defaults.put("USER", image.user());
            guest.writeFile(IMAGE_DEFAULTS, 0644, "root", new ByteArrayInputStream(environ(defaults)));
        }
        applySecrets(guest, secrets);
        for (File f : files) guest.writeFile(f.path(), f.mode(), "", new ByteArrayInputStream(f.content()));
        if (init != null) {
            SessionChannel ch = guest.openSession(new SessionOpen.Start("init", init, Map.of(), "", "",
                    true, 24, 80, 0));
            ch.close(); // runs on detached; `bhatti shell --session init` watches it
        }
    }

    /** Writes the secrets where the agent reads them; nothing if there are none. */
    static void applySecrets(Guest guest, Map<String, String> secrets) throws EngineException {
        if (!secrets.isEmpty()) guest.writeFile(SECRETS, 0600, "root", new ByteArrayInputStream(environ(secrets)));
    }

    /** NUL-separated KEY=VALUE entries, as the agent reads them. */
    private static byte[] environ(Map<String, String> vars) {
        var out = new ByteArrayOutputStream();
        vars.forEach((k, v) -> out.writeBytes((k + "=" + v + "\0").getBytes(StandardCharsets.UTF_8)));
        return out.toByteArray();
    }
}
