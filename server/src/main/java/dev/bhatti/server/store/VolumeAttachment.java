package dev.bhatti.server.store;

/** A volume attached to a sandbox: its position among the sandbox's volumes, where it is mounted, how. */
public record VolumeAttachment(String volumeId, String volumeName, String sandboxId, String sandboxName, int position, String mount,
                               boolean readOnly) {}
