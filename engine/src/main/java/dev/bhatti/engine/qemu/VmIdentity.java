package dev.bhatti.engine.qemu;

import java.io.IOException;
import java.io.Reader;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.Set;

/**
 * A VM's own unprivileged uid and gid (equal; numeric, no passwd entry) and the cgroup directories its
 * QEMU runs in, kept in {@code jail.properties} in the VM's directory so that a later daemon finds both.
 */
record VmIdentity(int uid, List<Path> cgroups) {

    static final String FILE = "jail.properties";

    VmIdentity {
        cgroups = List.copyOf(cgroups);
    }

    int gid() { return uid; }

    VmIdentity withCgroups(List<Path> dirs) { return new VmIdentity(uid, dirs); }

    /** The lowest id of {@code [base, base + count)} that no other VM holds. */
    static int allocate(Set<Integer> taken, int base, int count) {
        for (int i = 0; i < count; i++) {
            if (!taken.contains(base + i)) return base + i;
        }
        throw new IllegalStateException("all " + count + " VM uids from " + base + " are in use; widen engine.jail uid range");
    }

    static Path file(Path vmDir) { return vmDir.resolve(FILE); }

    static VmIdentity read(Path vmDir) throws IOException {
        var p = new Properties();
        try (Reader r = Files.newBufferedReader(file(vmDir), StandardCharsets.UTF_8)) {
            p.load(r);
        }
        try {
            var dirs = new ArrayList<Path>();
            for (int i = 0; p.getProperty("cgroup." + i) != null; i++) dirs.add(Path.of(p.getProperty("cgroup." + i)));
            return new VmIdentity(Integer.parseInt(p.getProperty("uid")), dirs);
        } catch (RuntimeException e) {
            throw new IOException("unreadable " + file(vmDir) + ": " + e.getMessage(), e);
        }
    }

    void write(Path vmDir) throws IOException {
        var p = new Properties();
        p.setProperty("uid", Integer.toString(uid));
        for (int i = 0; i < cgroups.size(); i++) p.setProperty("cgroup." + i, cgroups.get(i).toString());
        Path tmp = vmDir.resolve(FILE + ".tmp");
        try (Writer w = Files.newBufferedWriter(tmp, StandardCharsets.UTF_8)) {
            p.store(w, "bhatti vm jail");
        }
        Files.move(tmp, file(vmDir), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }
}
