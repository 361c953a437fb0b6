package dev.bhatti.server.sandbox;

import dev.bhatti.server.store.UserRecord;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Finds the image a create names among those the user may boot (own, then shared); tiers are the engine's. */
@FunctionalInterface
public interface ImageLookup {

    /** An image that is not a tier: its root filesystem and what its config says about running commands. */
    record UserImage(Path rootfs, Map<String, String> env, String workdir, String user, List<String> entrypoint, List<String> cmd) {}

    Optional<UserImage> find(UserRecord user, String name);

    ImageLookup NONE = (user, name) -> Optional.empty();
}
