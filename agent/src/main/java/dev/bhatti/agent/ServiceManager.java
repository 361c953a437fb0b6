package dev.bhatti.agent;

import dev.bhatti.agent.services.UnitFile;
import dev.bhatti.agent.services.UnitName;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.nio.file.LinkOption;
import java.util.Locale;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Runs systemd service units without systemd: the agent is the service manager of its sandbox. Each
 * service runs as its unit's User in its own session and cgroup, logs to {@code <logDir>/<unit>.log},
 * and is restarted by its Restart= policy with a growing back-off.
 */
final class ServiceManager {

    enum State { INACTIVE, ACTIVATING, ACTIVE, DEACTIVATING, FAILED;
        String wire() { return name().toLowerCase(Locale.ROOT); }
    }

    /** What {@code systemctl status} shows; {@code statusText} is the service's last sd_notify STATUS=. */
    record Status(String unit, State state, long mainPid, int lastExit, String description, String statusText) {}

    static final long STOP_TIMEOUT_MILLIS = 10_000;
    static final long MAX_BACKOFF_MILLIS = 30_000;

    private final AgentConfig config;
    private final List<Path> unitDirs;
    private final Path logDir;
    /** Where Type=notify services get their NOTIFY_SOCKET. */
    private final Path notifyDir;
    private final Map<String, ServiceProcess> services = new ConcurrentHashMap<>();

    ServiceManager(AgentConfig config, List<Path> unitDirs, Path logDir, Path notifyDir) {
        this.config = config;
        this.unitDirs = List.copyOf(unitDirs);
        this.logDir = logDir;
        this.notifyDir = notifyDir;
    }

    /** The full name of a unit ({@code nginx} is {@code nginx.service}); a name that is not one is refused. */
    static String normalize(String name) throws ServiceException {
        return UnitName.parse(name).orElseThrow(() -> new ServiceException("Unit name " + name + " is not valid."));
    }

    Optional<UnitFile> load(String name) throws IOException, ServiceException {
        String unit = normalize(name);
        for (Path dir : unitDirs) {
            Path f = dir.resolve(unit);
            if (Files.isRegularFile(f)) return Optional.of(UnitFile.load(f));
        }
        return Optional.empty();
    }

    Path log(String unit) throws ServiceException { return logDir.resolve(normalize(unit) + ".log"); }

    /** Starts a unit and what it Requires/Wants first. */
    void start(String name) throws ServiceException {
        start(normalize(name), new HashSet<>());
    }

    private void start(String unit, Set<String> visiting) throws ServiceException {
        if (!visiting.add(unit)) return; // dependency cycle: already on its way up
        UnitFile file = unit(unit);
        for (String dep : file.requires()) start(normalize(dep), visiting);
        for (String dep : file.wants()) {
            try {
                start(normalize(dep), visiting);
            } catch (ServiceException e) {
                Log.info("wanted unit " + dep + " of " + unit + " did not start: " + e.getMessage());
            }
        }
        ServiceProcess s = services.computeIfAbsent(unit, u -> new ServiceProcess(file, config, logDir, notifyDir));
        s.start(file);
    }

    void stop(String name) throws ServiceException {
        ServiceProcess s = services.get(normalize(name));
        if (s == null) {
            unit(normalize(name)); // unknown units are an error, known inactive ones are not
            return;
        }
        s.stop();
    }

    void restart(String name) throws ServiceException {
        stop(name);
        start(name);
    }

    Status status(String name) throws ServiceException {
        String unit = normalize(name);
        UnitFile file = unit(unit);
        ServiceProcess s = services.get(unit);
        return s == null ? new Status(unit, State.INACTIVE, 0, 0, file.description(), "") : s.status();
    }

    /** Links the unit into the targets it is WantedBy, as systemctl enable does. */
    void enable(String name) throws ServiceException {
        String unit = normalize(name);
        UnitFile file = unit(unit);
        try {
            for (String target : file.wantedBy().isEmpty() ? List.of("multi-user.target") : file.wantedBy()) {
                Path wants = unitDirs.getFirst().resolve(target + ".wants");
                Files.createDirectories(wants);
                Path link = wants.resolve(unit);
                if (!Files.exists(link, LinkOption.NOFOLLOW_LINKS)) Files.createSymbolicLink(link, source(unit));
            }
        } catch (IOException e) {
            throw new ServiceException("cannot enable " + unit + ": " + e.getMessage());
        }
    }

    void disable(String name) throws ServiceException {
        String unit = normalize(name);
        try (var dirs = Files.newDirectoryStream(unitDirs.getFirst(), "*.wants")) {
            for (Path d : dirs) Files.deleteIfExists(d.resolve(unit));
        } catch (IOException e) {
            throw new ServiceException("cannot disable " + unit + ": " + e.getMessage());
        }
    }

    boolean enabled(String name) throws ServiceException {
        String unit = normalize(name);
        try (var dirs = Files.newDirectoryStream(unitDirs.getFirst(), "*.wants")) {
            for (Path d : dirs) if (Files.exists(d.resolve(unit), LinkOption.NOFOLLOW_LINKS)) return true;
        } catch (IOException e) {
            return false;
        }
        return false;
    }

    /** The units that have run since boot, by name: what {@code systemctl list-units} shows. */
    List<Status> loaded() {
        return services.values().stream().map(ServiceProcess::status)
                .sorted(java.util.Comparator.comparing(Status::unit)).toList();
    }

    /** Every unit file in the unit directories, by name; a name found in two is the first directory's. */
    SortedMap<String, Path> unitFiles() {
        var files = new TreeMap<String, Path>();
        for (Path dir : unitDirs) {
            try (var entries = Files.newDirectoryStream(dir)) {
                for (Path f : entries) {
                    String name = f.getFileName().toString();
                    if (UnitName.isFull(name) && Files.isRegularFile(f)) files.putIfAbsent(name, f);
                }
            } catch (IOException e) {
                // a unit directory that does not exist holds no units
            }
        }
        return files;
    }

    /** The file a unit is read from (what {@code systemctl cat} shows). */
    Path fragment(String name) throws ServiceException { return source(normalize(name)); }

    /**
     * At boot: every unit enabled for multi-user.target, each after the enabled units it names in
     * After= (and what it Requires/Wants, which start() handles).
     */
    void startEnabled() {
        Path wants = unitDirs.getFirst().resolve("multi-user.target.wants");
        if (!Files.isDirectory(wants)) return;
        var enabled = new TreeSet<String>();
        try (var links = Files.newDirectoryStream(wants, "*.service")) {
            for (Path l : links) enabled.add(l.getFileName().toString());
        } catch (IOException e) {
            Log.info("cannot list enabled units: " + e.getMessage());
            return;
        }
        var done = new HashSet<String>();
        for (String unit : enabled) startAfterOrdering(unit, enabled, done);
    }

    private void startAfterOrdering(String unit, Set<String> enabled, Set<String> done) {
        if (!done.add(unit)) return;
        try {
            for (String before : unit(unit).after()) {
                String b = normalize(before);
                if (enabled.contains(b)) startAfterOrdering(b, enabled, done);
            }
            start(unit);
        } catch (ServiceException e) {
            Log.info("enabled unit " + unit + " failed to start: " + e.getMessage());
        }
    }

    private Path source(String unit) throws ServiceException {
        for (Path dir : unitDirs) if (Files.isRegularFile(dir.resolve(unit))) return dir.resolve(unit);
        throw new ServiceException("Unit " + unit + " not found.");
    }

    private UnitFile unit(String unit) throws ServiceException {
        try {
            return load(unit).orElseThrow(() -> new ServiceException("Unit " + unit + " not found."));
        } catch (IOException e) {
            throw new ServiceException("cannot read " + unit + ": " + e.getMessage());
        }
    }

    static final class ServiceException extends Exception {
        ServiceException(String message) { super(message); }
    }

}
