package dev.bhatti.sdk;

import java.util.List;
import java.util.Map;

/**
 * Your secrets: values stored encrypted, given to sandboxes created with {@link Create#secret} as
 * environment variables. Their values are never returned.
 */
public final class Secrets {
    private final Transport t;

    Secrets(Transport t) { this.t = t; }

    /** Sets (or replaces) a secret. */
    public Secret set(String name, String value) {
        Validate.name("secret name", name);
        Validate.notNull("secret value", value);
        return t.call("POST", "/secrets", Map.of("name", name, "value", value), Secret.class);
    }

    public Secret get(String name) { return t.call("GET", path(name), null, Secret.class); }

    public List<Secret> list() { return t.list("/secrets", Secret.class); }

    public void delete(String name) { t.call("DELETE", path(name), null); }

    private static String path(String name) { return "/secrets/" + Transport.segment(Validate.name("secret name", name)); }
}
