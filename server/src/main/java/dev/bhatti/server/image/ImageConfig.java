package dev.bhatti.server.image;

import tools.jackson.databind.JsonNode;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What an image's config says about running it (ENV, WORKDIR, USER, ENTRYPOINT and CMD) and its layers
 * (their uncompressed digests, the config's {@code rootfs.diff_ids}).
 */
public record ImageConfig(Map<String, String> env, String workingDir, String user, List<String> entrypoint, List<String> cmd,
                          List<String> layers) {

    public ImageConfig {
        layers = layers == null ? List.of() : layers; // configs stored before layers were kept
    }

    /** No config at all: what an image saved from a tier's sandbox has. */
    public static final ImageConfig EMPTY = new ImageConfig(Map.of(), "", "", List.of(), List.of(), List.of());

    public static ImageConfig of(JsonNode config) {
        JsonNode c = config.path("config");
        var env = new LinkedHashMap<String, String>();
        for (JsonNode e : c.path("Env")) {
            String kv = e.asString("");
            int eq = kv.indexOf('=');
            if (eq > 0) env.put(kv.substring(0, eq), kv.substring(eq + 1));
        }
        return new ImageConfig(env, c.path("WorkingDir").asString(""), c.path("User").asString(""), strings(c.path("Entrypoint")),
                strings(c.path("Cmd")), strings(config.path("rootfs").path("diff_ids")));
    }

    private static List<String> strings(JsonNode array) {
        var out = new ArrayList<String>();
        for (JsonNode s : array) out.add(s.asString(""));
        return List.copyOf(out);
    }
}
