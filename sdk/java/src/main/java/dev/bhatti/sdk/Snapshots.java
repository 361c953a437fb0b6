package dev.bhatti.sdk;

import java.util.List;
import java.util.Map;

/** Your named snapshots ({@link Sandbox#snapshot} takes them): list, resume as new sandboxes, delete. */
public final class Snapshots {
    private final Transport t;

    Snapshots(Transport t) { this.t = t; }

    public List<Snapshot> list() { return t.list("/snapshots", Snapshot.class); }

    public Snapshot get(String name) { return t.call("GET", path(name), null, Snapshot.class); }

    /** A new sandbox from the snapshot's moment (memory, processes, files), named by the daemon. */
    public Sandbox resume(String snapshot) { return resume(snapshot, null); }

    /** A new sandbox called {@code newName} from the snapshot's moment (memory, processes, files). */
    public Sandbox resume(String snapshot, String newName) {
        Map<String, Object> body = newName == null ? Map.of() : Map.of("name", Validate.name("new sandbox name", newName));
        return new Sandbox(t, t.call("POST", path(snapshot) + "/resume", body, SandboxInfo.class));
    }

    public void delete(String name) { t.call("DELETE", path(name), null); }

    private static String path(String name) { return "/snapshots/" + Transport.segment(Validate.name("snapshot name", name)); }
}
