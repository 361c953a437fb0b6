package dev.bhatti.agent;

import dev.bhatti.agent.services.EnvironmentFile;
import dev.bhatti.agent.services.UnitFile;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.nio.file.StandardOpenOption;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.LinkOption;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * One unit's processes and state: started by its Type= (simple, exec, oneshot, forking, notify), watched,
 * restarted by its Restart= policy with a growing back-off, stopped by ExecStop= or signals.
 */
final class ServiceProcess {
    private UnitFile file;
    private volatile ServiceManager.State state = ServiceManager.State.INACTIVE;
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

    private final AgentConfig config;
    private final Path logDir;
    /** Where a Type=notify service gets its NOTIFY_SOCKET. */
    private final Path notifyDir;

    ServiceProcess(UnitFile file, AgentConfig config, Path logDir, Path notifyDir) {
        this.file = file;
        this.config = config;
        this.logDir = logDir;
        this.notifyDir = notifyDir;
    }

    /** Unit files carry their full name (the file name they were read from). */
    private Path log(String unit) { return logDir.resolve(unit + ".log"); }

    /**
     * The unit's log, created readable by everyone whatever the agent's umask: {@code journalctl -u}
     * runs as the caller (uid 1000 too, as on a Debian system); only root writes there.
     */
    private Path openLog() throws IOException {
        if (!Files.isDirectory(logDir)) {
            Files.createDirectories(logDir);
            Files.setPosixFilePermissions(logDir, PosixFilePermissions.fromString("rwxr-xr-x"));
        }
        Path log = log(file.name());
        if (!Files.exists(log, LinkOption.NOFOLLOW_LINKS)) {
            try {
                Files.createFile(log);
                Files.setPosixFilePermissions(log, PosixFilePermissions.fromString("rw-r--r--"));
            } catch (FileAlreadyExistsException e) {
                // created by a concurrent start of the same unit
            }
        }
        return log;
    }

    synchronized ServiceManager.Status status() { return new ServiceManager.Status(file.name(), state, mainPid, lastExit, file.description(), statusText); }

    synchronized void start(UnitFile latest) throws ServiceManager.ServiceException {
        if (state == ServiceManager.State.ACTIVE || state == ServiceManager.State.ACTIVATING) return;
        file = latest;
        stopping = false;
        backoff = Math.max(100, file.restartMillis());
        launch();
    }

    /** Runs ExecStartPre, then the main command(s) according to Type=. Called with the lock held. */
    private void launch() throws ServiceManager.ServiceException {
        if (file.execStart().isEmpty()) throw new ServiceManager.ServiceException(file.name() + " has no ExecStart=");
        state = ServiceManager.State.ACTIVATING;
        for (var pre : file.execStartPre()) {
            int code = runToEnd(pre.argv());
            if (code != 0 && !pre.ignoreFailure()) fail("ExecStartPre exited with " + code);
        }
        switch (file.type()) {
            case ONESHOT -> {
                for (var line : file.execStart()) {
                    int code = runToEnd(line.argv());
                    if (code != 0 && !line.ignoreFailure()) fail("ExecStart exited with " + code);
                }
                state = file.remainAfterExit() ? ServiceManager.State.ACTIVE : ServiceManager.State.INACTIVE;
            }
            case FORKING -> {
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
                state = ServiceManager.State.ACTIVE;
                Thread.ofVirtual().start(this::watchForked);
            }
            case NOTIFY -> launchNotify();
            case SIMPLE -> {
                Process p = spawn(file.execStart().getFirst().argv(), Map.of());
                mainPid = p.pid();
                launchGroup = p.pid();
                state = ServiceManager.State.ACTIVE;
                Thread.ofVirtual().start(() -> watch(p));
            }
        }
        for (var post : file.execStartPost()) runToEnd(post.argv());
    }

    /**
     * Starts a Type=notify service with its own NOTIFY_SOCKET and waits (the lock released) until it
     * sends READY=1; exiting first or exceeding TimeoutStartSec fails the start, as with systemd.
     */
    private void launchNotify() throws ServiceManager.ServiceException {
        closeNotify();
        ready = false;
        statusText = "";
        try {
            notify = NotifySocket.open(notifyDir.resolve(file.name()), this::notified);
        } catch (IOException e) {
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
            state = ServiceManager.State.ACTIVE;
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

    private void fail(String why) throws ServiceManager.ServiceException {
        state = ServiceManager.State.FAILED;
        throw new ServiceManager.ServiceException("Job for " + file.name() + " failed: " + why + " (see journalctl -u " + file.name() + ")");
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
                state = ServiceManager.State.INACTIVE;
                notifyAll();
                return;
            }
            state = code == 0 ? (file.remainAfterExit() ? ServiceManager.State.ACTIVE : ServiceManager.State.INACTIVE) : ServiceManager.State.FAILED;
            if (!file.restart().after(code)) return;
            delay = backoff;
            backoff = Math.min(ServiceManager.MAX_BACKOFF_MILLIS, backoff * 2);
        }
        appendLog("bhatti: " + file.name() + " exited with " + code + "; restarting in " + delay + " ms");
        try {
            Thread.sleep(delay);
        } catch (InterruptedException e) {
            return;
        }
        synchronized (this) {
            if (stopping || state == ServiceManager.State.ACTIVE) return;
            try {
                launch();
            } catch (ServiceManager.ServiceException e) {
                appendLog("bhatti: restart failed: " + e.getMessage());
            }
        }
    }

    void stop() {
        long pid;
        long pgid;
        synchronized (this) {
            if (state == ServiceManager.State.INACTIVE && mainPid == 0) return;
            stopping = true;
            state = ServiceManager.State.DEACTIVATING;
            pid = mainPid;
            pgid = launchGroup;
        }
        for (var line : file.execStop()) runToEndQuietly(line.argv());
        terminate(pid, pgid);
        synchronized (this) {
            closeNotify();
            state = ServiceManager.State.INACTIVE;
            mainPid = 0;
        }
    }

    /** SIGTERM to the service, up to STOP_TIMEOUT for it to go, then SIGKILL to its whole cgroup. */
    private void terminate(long pid, long pgid) {
        stopping = true;
        if (pgid > 1) Libc.killGroup(pgid, Libc.SIGTERM);
        if (pid > 1) ProcessHandle.of(pid).ifPresent(ProcessHandle::destroy);
        long deadline = System.currentTimeMillis() + ServiceManager.STOP_TIMEOUT_MILLIS;
        synchronized (this) {
            while (mainPid != 0 && System.currentTimeMillis() < deadline) {
                try {
                    wait(200);
                } catch (InterruptedException e) {
                    break;
                }
                if (file.type() == UnitFile.Type.FORKING && !ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) break;
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
                EnvironmentFile.readInto(p, env);
            } catch (IOException e) {
                if (!optional) appendLog("bhatti: cannot read EnvironmentFile " + p + ": " + e.getMessage());
            }
        }
        env.putAll(file.environment());
        return env;
    }

    private Process spawn(List<String> argv, Map<String, String> extraEnv) throws ServiceManager.ServiceException {
        String user = file.user().isEmpty() ? "root" : file.user();
        var env = environment();
        env.putAll(extraEnv);
        switch (Launch.prepare(config, expand(argv), env, file.workingDirectory(), user)) {
            case Launch.Invalid i -> throw new ServiceManager.ServiceException(file.name() + ": " + i.message());
            case Launch.NotRunnable n -> throw new ServiceManager.ServiceException(file.name() + ": " + n.message());
            case Launch.Ready r -> {
                try {
                    Process p = r.builder().redirectErrorStream(true)
                            .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
                            .redirectOutput(ProcessBuilder.Redirect.appendTo(openLog().toFile())).start();
                    Libc.resetOomScore(p.pid());
                    Path g = config.contain("svc", p.pid());
                    if (g != null) group = g;
                    return p;
                } catch (IOException e) {
                    throw new ServiceManager.ServiceException(file.name() + ": cannot start: " + e.getMessage());
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

    private int runToEnd(List<String> argv) throws ServiceManager.ServiceException {
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
        } catch (ServiceManager.ServiceException e) {
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
            Files.writeString(openLog(), line + "\n", StandardOpenOption.APPEND);
        } catch (IOException ignored) {
            // nowhere to log
        }
    }
}
