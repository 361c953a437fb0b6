package dev.bhatti.server.image;

import dev.bhatti.server.task.Tasks;
import dev.bhatti.server.auth.ApiKeys;
import dev.bhatti.server.error.DomainException;
import dev.bhatti.server.image.registry.ImageReference;
import dev.bhatti.server.image.registry.RegistryClient;
import dev.bhatti.server.image.registry.RegistryException;
import dev.bhatti.server.image.rootfs.Ext4Image;
import dev.bhatti.server.store.ImageRecord;
import dev.bhatti.server.store.SandboxRecord;
import dev.bhatti.server.quota.Quotas;
import dev.bhatti.server.sandbox.Limits;
import dev.bhatti.server.store.Store;
import dev.bhatti.server.store.UserRecord;
import tools.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Arrays;
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
    private final Quotas quotas;

    private final Runnable releaseFiles;

    /**
     * {@code tiers}: the engine's built-in images, whose files lie in {@code imagesDir} too; {@code releaseFiles}
     * lets the engine free the files of deleted images that no VM or snapshot uses.
     */
    public ImageService(Store store, Path imagesDir, Tasks tasks, Supplier<List<String>> tiers, Runnable releaseFiles) {
        this.releaseFiles = releaseFiles;
        this.store = store;
        this.imagesDir = imagesDir;
        this.tasks = tasks;
        this.tiers = tiers;
        this.quotas = new Quotas(store);
        this.puller = new ImagePuller(imagesDir.resolve("blobs"), imagesDir.resolve("work"));
    }

    /** Starts pulling {@code reference} as image {@code name} (the reference itself when null); returns the task. */
    public Tasks.Task pull(UserRecord user, String reference, String name, RegistryClient.Credentials credentials) {
        return pull(user, reference, name, credentials, null);
    }

    /** A pull of the image for {@code platform} (OS/ARCH[/VARIANT]; the host's when null) from an index. */
    public Tasks.Task pull(UserRecord user, String reference, String name, RegistryClient.Credentials credentials, String platform) {
        ImageReference ref;
        RegistryClient.Platform wanted;
        try {
            ref = ImageReference.parse(reference);
            wanted = platform == null ? RegistryClient.Platform.HOST : RegistryClient.Platform.parse(platform);
        } catch (IllegalArgumentException e) {
            throw DomainException.invalid(e.getMessage());
        }
        if (!wanted.os().equals("linux") || !wanted.architecture().equals(RegistryClient.Platform.HOST.architecture())) {
            throw DomainException.invalid("sandboxes here run " + RegistryClient.Platform.HOST + " programs; " + wanted
                    + " would not start (choose a variant of " + RegistryClient.Platform.HOST + ")");
        }
        String imageName = checkNewName(user, name == null ? defaultName(ref) : name, name == null);
        quotas.admitImage(user, 0);
        return tasks.start(user.id(), "pull " + ref, task -> {
            String id = ApiKeys.randomHex(8);
            Path rootfs = rootfs(id);
            try {
                var pulled = puller.pull(RegistryClient.create(credentials), ref, wanted, rootfs, progress(task, user));
                keep(new ImageRecord(id, user.id(), imageName, ref.toString(), pulled.manifestDigest(), 0,
                        JSON.writeValueAsString(pulled.config()), Instant.now()), user);
                return imageName;
            } catch (RegistryException | IOException | RuntimeException | InterruptedException e) {
                Files.deleteIfExists(rootfs);
                throw e;
            }
        });
    }

    /**
     * Imports a {@code docker save} or OCI archive streamed in {@code body} as the user's image {@code name}.
     * The archive may not exceed the room left in the user's storage: refused as it streams, before it fills
     * the disk. A bad archive is refused with what is wrong and leaves nothing.
     */
    public ImageRecord importTar(UserRecord user, String name, InputStream body) throws IOException {
        if (name == null || name.isEmpty()) throw DomainException.invalid("name is required (?name=NAME)");
        String imageName = checkNewName(user, name, false);
        long room = quotas.storageLeft(user);
        String id = ApiKeys.randomHex(8);
        Path rootfs = rootfs(id);
        try {
            var imported = new ImageImporter(imagesDir.resolve("work"), room).importTar(body, rootfs, ImagePuller.Progress.NONE);
            return keep(new ImageRecord(id, user.id(), imageName, "import", imported.digest(), 0,
                    JSON.writeValueAsString(imported.config()), Instant.now()), user);
        } catch (ImportException e) {
            Files.deleteIfExists(rootfs);
            if (e.getCause() instanceof CappedInputStream.TooLarge) {
                throw quotas.storageLimit(user, "the archive is larger than the " + (room >> 20) + " MB left");
            }
            throw DomainException.invalid("cannot import: " + e.getMessage());
        } catch (InterruptedException e) {
            Files.deleteIfExists(rootfs);
            Thread.currentThread().interrupt();
            throw DomainException.failed("the import was interrupted (the server is stopping)");
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(rootfs);
            throw e;
        }
    }

    /** Writes a sandbox's disk; how is the sandbox's business (its gate, its state). */
    @FunctionalInterface
    public interface DiskWriter {
        long write(Path target);
    }

    /**
     * Saves a sandbox's root disk as the user's new image {@code name}, private to them, with the config of
     * the image the sandbox was made from when that is one of theirs (its ENV, WORKDIR...).
     */
    public ImageRecord save(UserRecord user, SandboxRecord sandbox, String name, DiskWriter disk) throws IOException {
        if (name == null) throw DomainException.invalid("name is required");
        String imageName = checkNewName(user, name, false);
        quotas.admitImage(user, 0);
        String id = ApiKeys.randomHex(8);
        Path rootfs = rootfs(id);
        try {
            disk.write(rootfs);
            Ext4Image.repair(rootfs);
            String config = store.image(user.id(), sandbox.image()).map(ImageRecord::config).orElse(JSON.writeValueAsString(ImageConfig.EMPTY));
            return keep(new ImageRecord(id, user.id(), imageName, "sandbox " + sandbox.name(), "", 0, config, Instant.now()), user);
        } catch (InterruptedException e) {
            Files.deleteIfExists(rootfs);
            Thread.currentThread().interrupt();
            throw DomainException.failed("the save was interrupted (the server is stopping)");
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(rootfs);
            throw e;
        }
    }

    /** The row of an image whose file is written: its size measured and held to the user's storage. */
    private ImageRecord keep(ImageRecord image, UserRecord user) {
        long used = Ext4Image.usedBytes(file(image.id()));
        quotas.admitImage(user, used);
        var row = new ImageRecord(image.id(), image.userId(), image.name(), image.source(), image.digest(), used, image.config(),
                image.createdAt().truncatedTo(ChronoUnit.MILLIS));
        if (!store.insertImage(row)) throw DomainException.conflict("an image named " + image.name() + " appeared meanwhile");
        return row;
    }

    /** A name for a new image of the user's: well formed, no tier's, none of theirs. */
    private String checkNewName(UserRecord user, String imageName, boolean defaulted) {
        if (!NAME.matcher(imageName).matches()) {
            throw DomainException.invalid("an image name is lowercase letters, digits and . _ : - (at most 128), got '"
                    + Limits.printable(imageName) + "'" + (defaulted ? "; give one with --name" : ""));
        }
        if (tiers.get().contains(imageName)) throw DomainException.conflict(imageName + " is a built-in image; pick another --name");
        if (store.image(user.id(), imageName).filter(i -> i.userId().equals(user.id())).isPresent()) {
            throw DomainException.conflict("you have an image named " + imageName + "; delete it first or pick another --name");
        }
        return imageName;
    }

    /** Where a new image's file goes (its directory made). */
    private Path rootfs(String id) throws IOException {
        Files.createDirectories(file(id).getParent());
        return file(id);
    }

    /** The one place that says where an image's file lies. */
    private Path file(String id) { return imagesDir.resolve("users").resolve(id + ".ext4"); }

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
            return ImageConfig.EMPTY;
        }
    }

    /** A task's progress; the layers' sizes, once known, must fit the user's storage (they only grow unpacked). */
    private ImagePuller.Progress progress(Tasks.Task task, UserRecord user) {
        return new ImagePuller.Progress() {
            @Override
            public void layers(long[] sizes) {
                task.parts(sizes);
                quotas.admitImage(user, Arrays.stream(sizes).sum());
            }

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

    /** Whether the user sees an image of this name (their own or a shared one); a tier of the same name is behind it. */
    public boolean has(UserRecord user, String name) { return store.image(user.id(), name).isPresent(); }

    public ImageRecord get(UserRecord user, String name) {
        return store.image(user.id(), name).orElseThrow(() -> DomainException.notFound("image not found: " + name));
    }

    /** Deletes the user's own image; sandboxes made from it keep their own disks. */
    public void delete(UserRecord user, String name) throws IOException {
        ImageRecord i = get(user, name);
        if (!i.userId().equals(user.id())) throw DomainException.conflict(name + " is shared with you, not yours to delete");
        store.deleteImage(i.id());
        Files.deleteIfExists(file(i.id()));
        releaseFiles.run();
    }

    /** The host file of an image a user may boot. */
    public Path rootfs(ImageRecord i) { return file(i.id()); }
}
