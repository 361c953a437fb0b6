package dev.bhatti.sdk;

import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What a new sandbox is to be: {@code Create.named("agent").image("minimal").cpus(2).memoryMb(1024)}.
 * Everything not set is the daemon's default (the minimal tier, its default size). Create is idempotent by
 * name: creating a name that exists gives that sandbox back. Each setter checks its argument
 * ({@link IllegalArgumentException}); the daemon checks the rest (quotas, name pattern, known image).
 */
public final class Create {
    private final String name;
    private String image;
    private Double cpus;
    private Integer memoryMb;
    private Integer diskSizeMb;
    private final Map<String, String> env = new LinkedHashMap<>();
    private String init;
    private final List<String> secrets = new ArrayList<>();
    private Boolean keepHot;
    private String egress;
    private final List<String> allowHosts = new ArrayList<>();
    private final List<VolumeMount> volumes = new ArrayList<>();
    private final List<Map<String, String>> files = new ArrayList<>();
    private Boolean runEntrypoint;

    private Create(String name) { this.name = name; }

    /** A sandbox called {@code name} (unique among your sandboxes; the name is how you find it again). */
    public static Create named(String name) { return new Create(Validate.name("sandbox name", name)); }

    /** A sandbox the daemon names. */
    public static Create unnamed() { return new Create(null); }

    /** A tier ({@code minimal} by default) or one of your images, or one shared with you. */
    public Create image(String image) {
        this.image = Validate.name("image", image);
        return this;
    }

    /** Virtual CPUs (may be fractional: a share of the host's). */
    public Create cpus(double cpus) {
        if (!(cpus > 0) || cpus > 1024) throw new IllegalArgumentException("cpus must be more than 0 and at most 1024, got " + cpus);
        this.cpus = cpus;
        return this;
    }

    public Create memoryMb(int memoryMb) {
        this.memoryMb = Validate.range("memoryMb", memoryMb, 1, 16 * 1024 * 1024);
        return this;
    }

    /** The root disk's size (default: the image's own); its file system grows to it at first boot. */
    public Create diskSizeMb(int diskSizeMb) {
        this.diskSizeMb = Validate.range("diskSizeMb", diskSizeMb, 1, 1_048_576);
        return this;
    }

    /** An environment variable every process in the sandbox gets. */
    public Create env(String key, String value) {
        Exec.checkEnv(key, value);
        env.put(key, value);
        return this;
    }

    /** A shell script run as the sandbox's init process at boot. */
    public Create init(String script) {
        this.init = Validate.notNull("init", script);
        return this;
    }

    /** A secret (set with {@link Secrets#set}) to pass in as an environment variable of that name. */
    public Create secret(String name) {
        secrets.add(Validate.name("secret name", name));
        return this;
    }

    /** Never paused or put to disk for being idle. */
    public Create keepHot(boolean keepHot) {
        this.keepHot = keepHot;
        return this;
    }

    /** Outbound network: {@code all} (the default; never private ranges) or {@code none} but {@link #allowHost}s. */
    public Create egress(String egress) {
        if (!"all".equals(egress) && !"none".equals(egress)) throw new IllegalArgumentException("egress must be all or none, got " + egress);
        this.egress = egress;
        return this;
    }

    /** An address, CIDR or host name (and its subdomains) reachable under egress none. */
    public Create allowHost(String host) {
        allowHosts.add(Validate.name("allowed host", host));
        return this;
    }

    /** A volume to attach and mount at {@code mount} (absolute guest path). */
    public Create volume(String name, String mount, boolean readOnly) {
        volumes.add(new VolumeMount(name, mount, readOnly));
        return this;
    }

    /** A file to put in the guest before it runs anything ({@code mode} octal, like 0644; null for the default). */
    public Create file(String guestPath, byte[] content, String mode) {
        Validate.guestPath("file path", guestPath);
        Validate.notNull("file content", content);
        if (mode != null && !mode.matches("0?[0-7]{3}")) throw new IllegalArgumentException("file mode must be octal permission bits like 0644, got " + mode);
        var f = new LinkedHashMap<String, String>();
        f.put("guest_path", guestPath);
        f.put("content", Base64.getEncoder().encodeToString(content));
        if (mode != null) f.put("mode", mode);
        files.add(f);
        return this;
    }

    /** Run the image's ENTRYPOINT and CMD as the init process (OCI images). */
    public Create runEntrypoint(boolean run) {
        this.runEntrypoint = run;
        return this;
    }

    /** The sandbox's name, or null for one the daemon picks. */
    public String name() { return name; }

    /** The request body of {@code POST /sandboxes}. */
    Map<String, Object> body() {
        var b = new LinkedHashMap<String, Object>();
        if (name != null) b.put("name", name);
        if (image != null) b.put("image", image);
        if (cpus != null) b.put("cpus", cpus == Math.rint(cpus) ? (Object) cpus.intValue() : cpus);
        if (memoryMb != null) b.put("memory_mb", memoryMb);
        if (diskSizeMb != null) b.put("disk_size_mb", diskSizeMb);
        if (!env.isEmpty()) b.put("env", Map.copyOf(env));
        if (init != null) b.put("init", init);
        if (!secrets.isEmpty()) b.put("secrets", List.copyOf(secrets));
        if (keepHot != null) b.put("keep_hot", keepHot);
        if (egress != null) b.put("egress", egress);
        if (!allowHosts.isEmpty()) b.put("allow_hosts", List.copyOf(allowHosts));
        if (!volumes.isEmpty()) {
            b.put("volumes", volumes.stream().map(v -> Map.of("name", v.name(), "mount", v.mount(), "read_only", v.readOnly())).toList());
        }
        if (!files.isEmpty()) b.put("files", List.copyOf(files));
        if (runEntrypoint != null) b.put("run_entrypoint", runEntrypoint);
        return b;
    }
}
