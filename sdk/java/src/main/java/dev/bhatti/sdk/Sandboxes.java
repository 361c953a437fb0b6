package dev.bhatti.sdk;

import java.util.List;

/** Your sandboxes: create, find and list them. */
public final class Sandboxes {
    private final Transport t;

    Sandboxes(Transport t) { this.t = t; }

    /**
     * Creates a sandbox and returns once its agent answers. Idempotent by name: a name you have already
     * gives that sandbox back (as it is; the other settings are not applied).
     */
    public Sandbox create(Create create) {
        Validate.notNull("create", create);
        return new Sandbox(t, t.call("POST", "/sandboxes", create.body(), SandboxInfo.class));
    }

    /** {@code create(Create.named(name))}: the daemon's default image and size. */
    public Sandbox create(String name) { return create(Create.named(name)); }

    /** One sandbox by name or id (with its disk usage); {@link NotFound} if you have none such. */
    public Sandbox get(String nameOrId) {
        return new Sandbox(t, t.call("GET", "/sandboxes/" + Transport.segment(Validate.name("sandbox name or id", nameOrId)), null, SandboxInfo.class));
    }

    /** All your sandboxes (listing never wakes them). */
    public List<Sandbox> list() {
        return t.list("/sandboxes", SandboxInfo.class).stream().map(s -> new Sandbox(t, s)).toList();
    }
}
