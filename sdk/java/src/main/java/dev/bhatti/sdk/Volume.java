package dev.bhatti.sdk;

import java.time.Instant;
import java.util.List;

/**
 * An ext4 volume that outlives the sandboxes it is attached to.
 *
 * @param usedBytes   bytes its sparse file takes on disk
 * @param status      creating or ready
 */
public record Volume(String name, int sizeMb, long usedBytes, String status, String source, List<Attachment> attachedTo, Instant createdAt) {
    public Volume {
        attachedTo = attachedTo == null ? List.of() : List.copyOf(attachedTo);
    }

    /** Where it is attached. */
    public record Attachment(String sandbox, String mount, boolean readOnly) {}
}
