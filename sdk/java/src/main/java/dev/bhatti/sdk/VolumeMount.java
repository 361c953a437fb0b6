package dev.bhatti.sdk;

/**
 * A volume attached to a sandbox: given at create, and shown in {@link SandboxInfo#volumes()}.
 *
 * @param mount    absolute path in the guest (not a system directory)
 * @param readOnly a read-only volume may be attached to several sandboxes, a writable one to one
 */
public record VolumeMount(String name, String mount, boolean readOnly) {
    public VolumeMount {
        Validate.name("volume name", name);
        Validate.guestPath("volume mount", mount);
    }
}
