package dev.bhatti.sdk;

import java.util.List;
import java.util.Map;

/** Your volumes: ext4 disks that outlive sandboxes ({@link Create#volume} attaches one). */
public final class Volumes {
    /** The daemon's smallest volume. */
    static final int MIN_SIZE_MB = 8;

    private final Transport t;

    Volumes(Transport t) { this.t = t; }

    public List<Volume> list() { return t.list("/volumes", Volume.class); }

    /** One volume, with where it is attached. */
    public Volume get(String name) { return t.call("GET", path(name), null, Volume.class); }

    /** Creates an empty ext4 volume of {@code sizeMb} (at least 8). */
    public Volume create(String name, int sizeMb) {
        Validate.name("volume name", name);
        Validate.range("sizeMb", sizeMb, MIN_SIZE_MB, Integer.MAX_VALUE);
        return t.call("POST", "/volumes", Map.of("name", name, "size_mb", sizeMb), Volume.class);
    }

    /** Deletes a volume that is attached nowhere ({@link Conflict} otherwise). */
    public void delete(String name) { t.call("DELETE", path(name), null); }

    private static String path(String name) { return "/volumes/" + Transport.segment(Validate.name("volume name", name)); }
}
