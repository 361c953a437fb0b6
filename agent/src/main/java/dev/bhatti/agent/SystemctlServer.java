package dev.bhatti.agent;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The guest's {@code systemctl}: a small script sends its arguments (tab-separated, one line) to this
 * Unix socket and prints what comes back; the last line, {@code \0EXIT n}, is its exit status.
 * The socket is root's only (uid 1000 uses {@code sudo systemctl}, as on any Debian machine).
 */
final class SystemctlServer {

    private final ServiceManager services;

    SystemctlServer(ServiceManager services) { this.services = services; }

    void serve(Path socket) throws IOException {
        Files.createDirectories(socket.getParent());
        Files.deleteIfExists(socket);
        var server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(socket));
        Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("rw-------"));
        Thread.ofVirtual().name("systemctl").start(() -> {
            while (server.isOpen()) {
                try {
                    SocketChannel client = server.accept();
                    Thread.ofVirtual().start(() -> handle(client));
                } catch (IOException e) {
                    return;
                }
            }
        });
    }

    private void handle(SocketChannel client) {
        try (client) {
            var in = new BufferedReader(new InputStreamReader(Channels.newInputStream(client), StandardCharsets.UTF_8));
            String line = in.readLine();
            OutputStream out = Channels.newOutputStream(client);
            var text = new StringBuilder();
            int code = run(line == null || line.isEmpty() ? List.of() : Arrays.asList(line.split("\t")), text);
            out.write(text.toString().getBytes(StandardCharsets.UTF_8));
            out.write(("\0EXIT " + code + "\n").getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
            // the client went away
        }
    }

    /** Runs one systemctl command line; returns its exit status (systemd's conventions). */
    int run(List<String> args, StringBuilder out) {
        var units = new ArrayList<String>();
        String verb = null;
        boolean now = false;
        boolean quiet = false;
        for (String a : args) {
            if (a.equals("--now")) now = true;
            else if (a.equals("--quiet") || a.equals("-q")) quiet = true;
            else if (a.startsWith("-")) continue; // --system, --no-block, --quiet, --no-pager, ...
            else if (verb == null) verb = a;
            else units.add(a);
        }
        if (verb == null) verb = "list-units";
        if (quiet && verb.startsWith("is-")) out = new StringBuilder(); // the exit status is the answer
        try {
            switch (verb) {
                case "daemon-reload", "daemon-reexec", "mask", "unmask", "reset-failed" -> { return 0; }
                case "preset" -> {
                    // Debian's preset policy is "enable *": deb-systemd-helper enables new units this way
                    for (String u : units) services.enable(u);
                    return 0;
                }
                case "is-system-running" -> {
                    out.append("running\n");
                    return 0;
                }
                case "start" -> { for (String u : units) services.start(u); return 0; }
                case "stop" -> { for (String u : units) services.stop(u); return 0; }
                case "restart", "reload", "try-restart", "reload-or-restart", "force-reload", "condrestart" -> {
                    for (String u : units) services.restart(u);
                    return 0;
                }
                case "enable" -> {
                    for (String u : units) {
                        services.enable(u);
                        if (now) services.start(u);
                    }
                    return 0;
                }
                case "disable" -> {
                    for (String u : units) {
                        services.disable(u);
                        if (now) services.stop(u);
                    }
                    return 0;
                }
                case "is-enabled" -> {
                    boolean all = true;
                    for (String u : units) {
                        boolean e = services.enabled(u);
                        out.append(e ? "enabled" : "disabled").append('\n');
                        all &= e;
                    }
                    return all ? 0 : 1;
                }
                case "is-active", "is-failed" -> {
                    boolean match = true;
                    for (String u : units) {
                        if (u.endsWith(".target")) {
                            // no targets here: the guest is always fully up (package scripts ask before starting services)
                            out.append("active\n");
                            match &= verb.equals("is-active");
                            continue;
                        }
                        var st = services.status(u).state();
                        out.append(st.wire()).append('\n');
                        match &= verb.equals("is-active") ? st == ServiceManager.State.ACTIVE : st == ServiceManager.State.FAILED;
                    }
                    return match ? 0 : (verb.equals("is-active") ? 3 : 1);
                }
                case "status" -> {
                    int code = 0;
                    for (String u : units) code = Math.max(code, status(u, out));
                    return code;
                }
                case "show" -> {
                    for (String u : units) {
                        var st = services.status(u);
                        out.append("Id=").append(st.unit()).append("\nActiveState=").append(st.state().wire())
                                .append("\nMainPID=").append(st.mainPid()).append("\nExecMainStatus=").append(st.lastExit())
                                .append("\nStatusText=").append(st.statusText()).append('\n');
                    }
                    return 0;
                }
                default -> {
                    out.append("bhatti systemctl: '").append(verb).append("' is not supported\n");
                    return 1;
                }
            }
        } catch (ServiceManager.ServiceException e) {
            out.append(e.getMessage()).append('\n');
            return e.getMessage().contains("not found") ? 5 : 1;
        }
    }

    private int status(String unit, StringBuilder out) throws ServiceManager.ServiceException {
        var st = services.status(unit);
        out.append("● ").append(st.unit()).append(" - ").append(st.description()).append('\n');
        out.append("     Loaded: loaded (").append(services.enabled(unit) ? "enabled" : "disabled").append(")\n");
        out.append("     Active: ").append(st.state().wire())
                .append(st.state() == ServiceManager.State.ACTIVE && st.mainPid() > 0 ? " (running)" : "")
                .append(st.state() == ServiceManager.State.FAILED ? " (Result: exit-code " + st.lastExit() + ")" : "").append('\n');
        if (st.mainPid() > 0) out.append("   Main PID: ").append(st.mainPid()).append('\n');
        if (!st.statusText().isEmpty()) out.append("     Status: \"").append(st.statusText()).append("\"\n");
        try {
            List<String> lines = Files.readAllLines(services.log(unit));
            out.append('\n');
            for (String l : lines.subList(Math.max(0, lines.size() - 10), lines.size())) out.append(l).append('\n');
        } catch (IOException e) {
            // no log yet
        }
        return switch (st.state()) {
            case ACTIVE -> 0;
            default -> 3;
        };
    }
}
