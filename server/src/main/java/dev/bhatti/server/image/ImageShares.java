package dev.bhatti.server.image;

import dev.bhatti.server.store.ImageRecord;
import dev.bhatti.server.store.Store;
import dev.bhatti.server.store.UserRecord;

import java.util.List;

/**
 * Sharing an image with named users, done by the server's administrator on the server (like the user
 * accounts themselves): there is no "share with everyone", and a share never lets anyone change or
 * delete the image.
 */
public final class ImageShares {
    private final Store store;

    public ImageShares(Store store) { this.store = store; }

    /** The image {@code name} that {@code owner} owns; without an owner, the one user's image of that name. */
    public ImageRecord find(String name, String owner) {
        List<ImageRecord> matches = store.users().stream()
                .filter(u -> owner == null || u.name().equals(owner))
                .flatMap(u -> store.images(u.id()).stream().filter(i -> i.userId().equals(u.id()) && i.name().equals(name)))
                .toList();
        if (matches.isEmpty()) {
            throw new IllegalArgumentException("no image named " + name + (owner == null ? "" : " owned by " + owner) + "; see: bhatti image list");
        }
        if (matches.size() > 1) {
            throw new IllegalArgumentException(matches.size() + " users have an image named " + name + "; say whose with --owner USER");
        }
        return matches.getFirst();
    }

    /** Shares the image with each user (again is harmless); returns who it is shared with now. */
    public List<String> share(ImageRecord image, List<String> userNames) {
        for (String n : userNames) {
            UserRecord u = user(n);
            if (u.id().equals(image.userId())) throw new IllegalArgumentException(n + " owns " + image.name() + " already");
            store.shareImage(image.id(), u.id());
        }
        return store.imageShares(image.id());
    }

    /** Stops sharing with each user; sandboxes they made from it keep running. Returns who it is shared with now. */
    public List<String> unshare(ImageRecord image, List<String> userNames) {
        for (String n : userNames) {
            if (!store.unshareImage(image.id(), user(n).id())) {
                throw new IllegalArgumentException(image.name() + " is not shared with " + n);
            }
        }
        return store.imageShares(image.id());
    }

    public List<String> shares(ImageRecord image) { return store.imageShares(image.id()); }

    private UserRecord user(String name) {
        return store.userByName(name).orElseThrow(() -> new IllegalArgumentException("no user named " + name + "; see: bhatti user list"));
    }
}
