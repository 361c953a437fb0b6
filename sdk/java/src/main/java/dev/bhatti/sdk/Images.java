package dev.bhatti.sdk;

import java.util.List;

/** The images sandboxes are created from: tiers, your own, and those shared with you. */
public final class Images {
    private final Transport t;

    Images(Transport t) { this.t = t; }

    public List<Image> list() { return t.list("/images", Image.class); }

    /** One image, with its config and layers. */
    public Image get(String name) { return t.call("GET", path(name), null, Image.class); }

    /** Deletes one of your images (sandboxes made from it keep running). */
    public void delete(String name) { t.call("DELETE", path(name), null); }

    private static String path(String name) { return "/images/" + Transport.segment(Validate.name("image name", name)); }
}
