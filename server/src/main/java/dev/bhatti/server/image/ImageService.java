package dev.bhatti.server.image;

import dev.bhatti.server.auth.ApiKeys;
import dev.bhatti.server.error.DomainException;
import dev.bhatti.server.image.registry.ImageReference;
import dev.bhatti.server.image.registry.RegistryClient;
import dev.bhatti.server.image.registry.RegistryException;
import dev.bhatti.server.image.rootfs.Ext4Image;
import dev.bhatti.server.store.ImageRecord;
import dev.bhatti.server.sandbox.Limits;
import dev.bhatti.server.store.Store;
import dev.bhatti.server.store.UserRecord;
import tools.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;
import java.util.regex.Pattern;

/**
 * A user's images: pulled from registries (as tasks the client polls), listed with those shared with
 * them, shared with named users, deleted. An image is an ext4 root filesystem in
 * {@code <images>/users/<image id>.ext4} and a row; tiers are files only, visible to all.
 */
public final class ImageService {
    /** Image names: what a user types after --image, and one path segment of /images/{name}. */
    static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9._:-]{0,127}");
    private static final JsonMapper JSON = JsonMapper.builder().build();

    private final Store store;
    private final Path imagesDir;
    private final Tasks tasks;
    private final ImagePuller puller;
    private final Supplier<List<String>> tiers;

    /** {@code tiers}: the engine's built-in images, whose files lie in {@code imagesDir} too. */
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
        String imageName = name == null ? defaultName(ref) : name;
        if (!NAME.matcher(imageName).matches()) {
            throw DomainException.invalid("an image name is lowercase letters, digits and . _ : - (at most 128), got '"
                    + Limits.printable(imageName) + "'" + (name == null ? "; give one with --name" : ""));
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

    /** python:3.12 for docker.io/library/python:3.12, devbox:1 for registry.example:5000/team/devbox:1. */
    static String defaultName(ImageReference ref) {
        String repo = ref.repository().substring(ref.repository().lastIndexOf('/') + 1);
        return ref.digest().map(d -> repo + ":" + d.substring(d.indexOf(':') + 1, Math.min(d.length(), d.indexOf(':') + 13)))
                .orElse(repo + ":" + ref.tag());
    }

    /** What a create needs of an image a user may boot: its file, and its config for every command. */
    public record Bootable(ImageRecord image, Path rootfs, ImageConfig config) {}

    /** The image {@code name} as the user sees it (own, then shared), or empty when there is none. */
    public Optional<Bootable> bootable(UserRecord user, String name) {
        return store.image(user.id(), name).map(i -> new Bootable(i, rootfs(i), config(i)));
    }

    public static ImageConfig config(ImageRecord i) {
        try {
            return JSON.readValue(i.config(), ImageConfig.class);
        } catch (RuntimeException e) {
            return new ImageConfig(Map.of(), "", "", List.of(), List.of());
        }
    }

    private static ImagePuller.Progress progress(Tasks.Task task) {
        return new ImagePuller.Progress() {
            @Override public void layers(long[] sizes) { task.parts(sizes); }

            @Override public void layer(int index, dev.bhatti.server.image.registry.Descriptor layer, long done) { task.progress(index, done); }

            @Override public void phase(String what) { task.phase(what); }
        };
    }

    public List<ImageRecord> list(UserRecord user) { return store.images(user.id()); }

    public List<String> tiers() { return tiers.get(); }

    /** The bytes in use in a tier's root filesystem (its file is sparse and longer). */
    public long tierBytes(String tier) {
        try (var files = Files.list(imagesDir)) {
            return files.filter(p -> p.getFileName().toString().matches("rootfs-" + Pattern.quote(tier) + "-[a-z0-9_]+\\.ext4"))
                    .mapToLong(Ext4Image::usedBytes).sum();
        } catch (IOException e) {
            return 0;
        }
    }

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
