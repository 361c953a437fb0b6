package dev.bhatti.server.image;

import dev.bhatti.server.auth.ApiKeys;
import dev.bhatti.server.error.DomainException;
import dev.bhatti.server.image.registry.ImageReference;
import dev.bhatti.server.image.registry.RegistryClient;
import dev.bhatti.server.image.registry.RegistryException;
import dev.bhatti.server.store.ImageRecord;
import dev.bhatti.server.store.Store;
import dev.bhatti.server.store.UserRecord;
import tools.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.function.Supplier;
import java.util.regex.Pattern;

/**
 * A user's images: pulled from registries (as tasks the client polls), listed with those shared with
 * them, shared with named users, deleted. An image is an ext4 root filesystem in
 * {@code <images>/users/<image id>.ext4} and a row; tiers are files only, visible to all.
 */
public final class ImageService {
    /** Image names: what a user types after --image. */
    static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9._:/-]{0,127}");
    private static final JsonMapper JSON = JsonMapper.builder().build();

    private final Store store;
    private final Path imagesDir;
    private final Tasks tasks;
    private final ImagePuller puller;
    private final Supplier<List<String>> tiers;

    public ImageService(Store store, Path imagesDir, Tasks tasks, Supplier<List<String>> tiers) {
        this.store = store;
        this.imagesDir = imagesDir;
        this.tasks = tasks;
        this.tiers = tiers;
        this.puller = new ImagePuller(imagesDir.resolve("blobs"), imagesDir.resolve("work"));
    }

    /** Starts pulling {@code reference} as image {@code name} (the reference itself when null); returns the task. */
    public Tasks.Task pull(UserRecord user, String reference, String name, RegistryClient.Credentials credentials) {
        ImageReference ref;
        try {
            ref = ImageReference.parse(reference);
        } catch (IllegalArgumentException e) {
            throw DomainException.invalid(e.getMessage());
        }
        String imageName = name == null ? reference.strip() : name;
        if (!NAME.matcher(imageName).matches()) {
            throw DomainException.invalid("an image name is lowercase letters, digits and . _ : / - (at most 128), got '" + imageName + "'");
        }
        if (tiers.get().contains(imageName)) throw DomainException.conflict(imageName + " is a built-in image; pull with --name");
        if (store.image(user.id(), imageName).filter(i -> i.userId().equals(user.id())).isPresent()) {
            throw DomainException.conflict("you have an image named " + imageName + "; delete it first or pull with --name");
        }
        return tasks.start(user.id(), "pull " + ref, task -> {
            String id = ApiKeys.randomHex(8);
            Path users = Files.createDirectories(imagesDir.resolve("users"));
            Path rootfs = users.resolve(id + ".ext4");
            try {
                var pulled = puller.pull(RegistryClient.create(credentials), ref, RegistryClient.Platform.HOST, rootfs, progress(task));
                var row = new ImageRecord(id, user.id(), imageName, ref.toString(), pulled.manifestDigest(), pulled.rootfsBytes(),
                        JSON.writeValueAsString(pulled.config()), Instant.now().truncatedTo(ChronoUnit.MILLIS));
                if (!store.insertImage(row)) throw new IllegalStateException("an image named " + imageName + " appeared meanwhile");
                return imageName;
            } catch (RegistryException | IOException | RuntimeException | InterruptedException e) {
                Files.deleteIfExists(rootfs);
                throw e;
            }
        });
    }

    private static ImagePuller.Progress progress(Tasks.Task task) {
        return new ImagePuller.Progress() {
            @Override public void layers(long[] sizes) { task.parts(sizes); }

            @Override public void layer(int index, dev.bhatti.server.image.registry.Descriptor layer, long done) { task.progress(index, done); }

            @Override public void phase(String what) { task.phase(what); }
        };
    }

    public List<ImageRecord> list(UserRecord user) { return store.images(user.id()); }

    public ImageRecord get(UserRecord user, String name) {
        return store.image(user.id(), name).orElseThrow(() -> DomainException.notFound("image not found: " + name));
    }

    /** Deletes the user's own image; sandboxes made from it keep their own disks. */
    public void delete(UserRecord user, String name) throws IOException {
        ImageRecord i = get(user, name);
        if (!i.userId().equals(user.id())) throw DomainException.conflict(name + " is shared with you, not yours to delete");
        store.deleteImage(i.id());
        Files.deleteIfExists(imagesDir.resolve("users").resolve(i.id() + ".ext4"));
    }

    /** The host file of an image a user may boot. */
    public Path rootfs(ImageRecord i) { return imagesDir.resolve("users").resolve(i.id() + ".ext4"); }
}
