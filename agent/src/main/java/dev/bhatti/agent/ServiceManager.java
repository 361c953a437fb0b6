package dev.bhatti.agent;

import dev.bhatti.agent.services.UnitFile;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Runs systemd service units without systemd: the agent is the service manager of its sandbox. Each
 * service runs as its unit's User in its own session and cgroup, logs to {@code <logDir>/<unit>.log},
 * and is restarted by its Restart= policy with a growing back-off.
 */
final class ServiceManager {

    enum State { INACTIVE, ACTIVATING, ACTIVE, DEACTIVATING, FAILED;
        String wire() { return name().toLowerCase(java.util.Locale.ROOT); }
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
    private final Map<String, Service> services = new ConcurrentHashMap<>();

    ServiceManager(AgentConfig config, List<Path> unitDirs, Path logDir, Path notifyDir) {
        this.config = config;
        this.unitDirs = List.copyOf(unitDirs);
        this.logDir = logDir;
        this.notifyDir = notifyDir;
    }

    static String normalize(String name) { return name.contains(".") ? name : name + ".service"; }

    Optional<UnitFile> load(String name) throws IOException {
        String unit = normalize(name);
        for (Path dir : unitDirs) {
            Path f = dir.resolve(unit);
            if (Files.isRegularFile(f)) return Optional.of(UnitFile.load(f));
        }
        return Optional.empty();
    }

    Path log(String unit) { return logDir.resolve(normalize(unit) + ".log"); }

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
        Service s = services.computeIfAbsent(unit, u -> new Service(file));
        s.start(file);
    }

    void stop(String name) throws ServiceException {
        Service s = services.get(normalize(name));
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
        Service s = services.get(unit);
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
                if (!Files.exists(link, java.nio.file.LinkOption.NOFOLLOW_LINKS)) Files.createSymbolicLink(link, source(unit));
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

    boolean enabled(String name) {
        String unit = normalize(name);
        try (var dirs = Files.newDirectoryStream(unitDirs.getFirst(), "*.wants")) {
            for (Path d : dirs) if (Files.exists(d.resolve(unit), java.nio.file.LinkOption.NOFOLLOW_LINKS)) return true;
        } catch (IOException e) {
            return false;
        }
        return false;
    }

    /**
     * At boot: every unit enabled for multi-user.target, each after the enabled units it names in
     * After= (and what it Requires/Wants, which start() handles).
     */
    void startEnabled() {
        Path wants = unitDirs.getFirst().resolve("multi-user.target.wants");
        if (!Files.isDirectory(wants)) return;
        var enabled = new java.util.TreeSet<String>();
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

    /** One unit's running state. */
    private final class Service {
        private UnitFile file;
        private volatile State state = State.INACTIVE;
        private volatile long mainPid;
        /** The process group the service was launched in (a forking daemon's main pid leads none). */
        private volatile long launchGroup;
        private volatile int lastExit;
        private volatile String statusText = "";
        private volatile boolean stopping;
        /** Set by READY=1 from a Type=notify service. */
        private boolean ready;
        private NotifySocket notify;
        private volatile Path group;
        private long backoff;

        Service(UnitFile file) { this.file = file; }

        synchronized Status status() { return new Status(file.name(), state, mainPid, lastExit, file.description(), statusText); }

        synchronized void start(UnitFile latest) throws ServiceException {
            if (state == State.ACTIVE || state == State.ACTIVATING) return;
            file = latest;
            stopping = false;
            backoff = Math.max(100, file.restartMillis());
            launch();
        }

        /** Runs ExecStartPre, then the main command(s) according to Type=. Called with the lock held. */
        private void launch() throws ServiceException {
            if (file.execStart().isEmpty()) throw new ServiceException(file.name() + " has no ExecStart=");
            state = State.ACTIVATING;
            for (var pre : file.execStartPre()) {
                int code = runToEnd(pre.argv());
                if (code != 0 && !pre.ignoreFailure()) fail("ExecStartPre exited with " + code);
            }
            switch (file.type()) {
                case "oneshot" -> {
                    for (var line : file.execStart()) {
                        int code = runToEnd(line.argv());
                        if (code != 0 && !line.ignoreFailure()) fail("ExecStart exited with " + code);
                    }
                    state = file.remainAfterExit() ? State.ACTIVE : State.INACTIVE;
                }
                case "forking" -> {
                    Process launcher = spawn(file.execStart().getFirst().argv(), Map.of());
                    launchGroup = launcher.pid();
                    int code;
                    try {
                        code = launcher.waitFor(5, TimeUnit.MINUTES) ? launcher.exitValue() : -1;
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        code = -1;
                    }
                    if (code != 0) fail("ExecStart exited with " + code);
                    mainPid = readPidFile();
                    state = State.ACTIVE;
                    Thread.ofVirtual().start(this::watchForked);
                }
                case "notify" -> launchNotify();
                default -> { // simple, exec: active once started
                    Process p = spawn(file.execStart().getFirst().argv(), Map.of());
                    mainPid = p.pid();
                    launchGroup = p.pid();
                    state = State.ACTIVE;
                    Thread.ofVirtual().start(() -> watch(p));
                }
            }
            for (var post : file.execStartPost()) runToEnd(post.argv());
        }

        /**
         * Starts a Type=notify service with its own NOTIFY_SOCKET and waits (the lock released) until it
         * sends READY=1; exiting first or exceeding TimeoutStartSec fails the start, as with systemd.
         */
        private void launchNotify() throws ServiceException {
            closeNotify();
            ready = false;
            statusText = "";
            try {
                notify = NotifySocket.open(notifyDir.resolve(file.name()), this::notified);
            } catch (java.io.IOException e) {
                fail("cannot create its notify socket: " + e.getMessage());
            }
            Process p = spawn(file.execStart().getFirst().argv(), Map.of("NOTIFY_SOCKET", notify.path().toString()));
            mainPid = p.pid();
            launchGroup = p.pid();
            Thread.ofVirtual().start(() -> watch(p));
            long deadline = file.timeoutStartMillis() == Long.MAX_VALUE ? Long.MAX_VALUE
                    : System.currentTimeMillis() + file.timeoutStartMillis();
            while (!ready && mainPid != 0 && !stopping && System.currentTimeMillis() < deadline) {
                try {
                    wait(Math.min(200, Math.max(1, deadline - System.currentTimeMillis())));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
            if (ready) {
                state = State.ACTIVE;
                return;
            }
            if (mainPid == 0) fail("exited with " + lastExit + " before it reported READY=1");
            appendLog("bhatti: " + file.name() + " did not report READY=1 within " + file.timeoutStartMillis() + " ms; stopping it");
            terminate(mainPid, launchGroup);
            fail("start timed out waiting for READY=1");
        }

        /** One sd_notify datagram: newline-separated assignments. */
        private void notified(String message) {
            synchronized (this) {
                for (String line : message.split("\n")) {
                    int eq = line.indexOf('=');
                    if (eq <= 0) continue;
                    String key = line.substring(0, eq);
                    String value = line.substring(eq + 1);
                    switch (key) {
                        case "READY" -> ready |= value.equals("1");
                        case "STATUS" -> statusText = value.length() > 200 ? value.substring(0, 200) : value;
                        case "MAINPID" -> {
                            try {
                                long pid = Long.parseLong(value.strip());
                                if (pid > 1) mainPid = pid;
                            } catch (NumberFormatException ignored) {
                                // not a pid: ignore, as systemd does
                            }
                        }
                        default -> { } // WATCHDOG, RELOADING, STOPPING...: nothing to do here
                    }
                }
                notifyAll();
            }
        }

        private void closeNotify() {
            var n = notify;
            notify = null;
            if (n != null) n.close();
        }

        private void fail(String why) throws ServiceException {
            state = State.FAILED;
            throw new ServiceException("Job for " + file.name() + " failed: " + why + " (see journalctl -u " + file.name() + ")");
        }

        private void watch(Process p) {
            int code;
            try {
                code = p.waitFor();
            } catch (InterruptedException e) {
                return;
            }
            exited(code);
        }

        private void watchForked() {
            while (true) {
                while (!stopping && mainPid > 0 && alive(mainPid)) {
                    try {
                        Thread.sleep(1_000);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
                // Like systemd: a daemon that handed over to a new main process (nginx's binary upgrade
                // re-execs and rewrites its PID file) stays active under the new one.
                long successor = stopping ? 0 : successorFromPidFile(mainPid);
                if (successor == 0) break;
                appendLog("bhatti: main process " + mainPid + " handed over to " + successor);
                mainPid = successor;
            }
            exited(stopping ? 0 : 1);
        }

        /** A live process other than {@code dead} named by the PID file within 2 s, or 0. */
        private long successorFromPidFile(long dead) {
            if (file.pidFile().isEmpty()) return 0;
            for (int i = 0; i < 20; i++) {
                try {
                    long pid = Long.parseLong(Files.readString(Path.of(file.pidFile())).strip());
                    if (pid > 1 && pid != dead && alive(pid)) return pid;
                } catch (IOException | NumberFormatException e) {
                    // being rewritten, or gone
                }
                try {
                    Thread.sleep(100);
                } catch (InterruptedException e) {
                    return 0;
                }
            }
            return 0;
        }

        private static boolean alive(long pid) { return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false); }

        /** The main process ended: settle the state and apply the Restart= policy. */
        private void exited(int code) {
            long delay;
            synchronized (this) {
                lastExit = code;
                mainPid = 0;
                closeNotify();
                if (stopping) {
                    state = State.INACTIVE;
                    notifyAll();
                    return;
                }
                state = code == 0 ? (file.remainAfterExit() ? State.ACTIVE : State.INACTIVE) : State.FAILED;
                boolean again = switch (file.restart()) {
                    case "always" -> true;
                    case "on-failure", "on-abnormal" -> code != 0;
                    default -> false;
                };
                if (!again) return;
                delay = backoff;
                backoff = Math.min(MAX_BACKOFF_MILLIS, backoff * 2);
            }
            appendLog("bhatti: " + file.name() + " exited with " + code + "; restarting in " + delay + " ms");
            try {
                Thread.sleep(delay);
            } catch (InterruptedException e) {
                return;
            }
            synchronized (this) {
                if (stopping || state == State.ACTIVE) return;
                try {
                    launch();
                } catch (ServiceException e) {
                    appendLog("bhatti: restart failed: " + e.getMessage());
                }
            }
        }

        void stop() {
            long pid;
            long pgid;
            synchronized (this) {
                if (state == State.INACTIVE && mainPid == 0) return;
                stopping = true;
                state = State.DEACTIVATING;
                pid = mainPid;
                pgid = launchGroup;
            }
            for (var line : file.execStop()) runToEndQuietly(line.argv());
            terminate(pid, pgid);
            synchronized (this) {
                closeNotify();
                state = State.INACTIVE;
                mainPid = 0;
            }
        }

        /** SIGTERM to the service, up to STOP_TIMEOUT for it to go, then SIGKILL to its whole cgroup. */
        private void terminate(long pid, long pgid) {
            stopping = true;
            if (pgid > 1) Libc.killGroup(pgid, Libc.SIGTERM);
            if (pid > 1) ProcessHandle.of(pid).ifPresent(ProcessHandle::destroy);
            long deadline = System.currentTimeMillis() + STOP_TIMEOUT_MILLIS;
            synchronized (this) {
                while (mainPid != 0 && System.currentTimeMillis() < deadline) {
                    try {
                        wait(200);
                    } catch (InterruptedException e) {
                        break;
                    }
                    if (file.type().equals("forking") && !ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) break;
                }
            }
            Cgroups.kill(group);
            if (pgid > 1) Libc.killGroup(pgid, Libc.SIGKILL);
            if (pid > 1) ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
        }

        private Map<String, String> environment() {
            var env = new LinkedHashMap<String, String>();
            for (String f : file.environmentFiles()) {
                boolean optional = f.startsWith("-");
                Path p = Path.of(optional ? f.substring(1) : f);
                try {
                    for (String line : Files.readAllLines(p)) {
                        String l = line.strip();
                        if (l.isEmpty() || l.startsWith("#")) continue;
                        int eq = l.indexOf('=');
                        if (eq > 0) env.put(l.substring(0, eq).strip(), unquote(l.substring(eq + 1).strip()));
                    }
                } catch (IOException e) {
                    if (!optional) appendLog("bhatti: cannot read EnvironmentFile " + p + ": " + e.getMessage());
                }
            }
            env.putAll(file.environment());
            return env;
        }

        private Process spawn(List<String> argv, Map<String, String> extraEnv) throws ServiceException {
            String user = file.user().isEmpty() ? "root" : file.user();
            var env = environment();
            env.putAll(extraEnv);
            switch (Launch.prepare(config, expand(argv), env, file.workingDirectory(), user)) {
                case Launch.Invalid i -> throw new ServiceException(file.name() + ": " + i.message());
                case Launch.NotRunnable n -> throw new ServiceException(file.name() + ": " + n.message());
                case Launch.Ready r -> {
                    try {
                        Files.createDirectories(logDir);
                        Process p = r.builder().redirectErrorStream(true)
                                .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
                                .redirectOutput(ProcessBuilder.Redirect.appendTo(log(file.name()).toFile())).start();
                        Libc.resetOomScore(p.pid());
                        Path g = config.contain("svc", p.pid());
                        if (g != null) group = g;
                        return p;
                    } catch (IOException e) {
                        throw new ServiceException(file.name() + ": cannot start: " + e.getMessage());
                    }
                }
            }
        }

        /** $VAR and ${VAR} from the unit's environment, as systemd expands them in Exec lines. */
        private List<String> expand(List<String> argv) {
            var env = environment();
            var out = new ArrayList<String>();
            for (String a : argv) {
                String v = a;
                for (var e : env.entrySet()) v = v.replace("${" + e.getKey() + "}", e.getValue());
                if (v.startsWith("$") && env.containsKey(v.substring(1))) v = env.get(v.substring(1));
                out.add(v);
            }
            return out;
        }

        private int runToEnd(List<String> argv) throws ServiceException {
            Process p = spawn(argv, Map.of());
            try {
                return p.waitFor(5, TimeUnit.MINUTES) ? p.exitValue() : -1;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return -1;
            }
        }

        private void runToEndQuietly(List<String> argv) {
            try {
                runToEnd(argv);
            } catch (ServiceException e) {
                appendLog("bhatti: ExecStop failed: " + e.getMessage());
            }
        }

        private long readPidFile() {
            if (file.pidFile().isEmpty()) return 0;
            try {
                for (int i = 0; i < 50 && !Files.exists(Path.of(file.pidFile())); i++) Thread.sleep(100);
                return Long.parseLong(Files.readString(Path.of(file.pidFile())).strip());
            } catch (IOException | NumberFormatException e) {
                return 0;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return 0;
            }
        }

        private void appendLog(String line) {
            try {
                Files.createDirectories(logDir);
                Files.writeString(log(file.name()), line + "\n", java.nio.file.StandardOpenOption.CREATE,
                        java.nio.file.StandardOpenOption.APPEND);
            } catch (IOException ignored) {
                // nowhere to log
            }
        }
    }

    private static String unquote(String v) {
        if (v.length() >= 2 && (v.startsWith("\"") && v.endsWith("\"") || v.startsWith("'") && v.endsWith("'"))) {
            return v.substring(1, v.length() - 1);
        }
        return v;
    }
}
