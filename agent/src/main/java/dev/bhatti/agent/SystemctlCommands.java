package dev.bhatti.agent;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What each {@code systemctl} verb does to the {@link ServiceManager}, with systemd's exit statuses
 * (0 yes/done, 1 failed or no, 3 not active, 5 no such unit). Who may run which verb is
 * {@link SystemctlPolicy}'s business, checked before.
 */
final class SystemctlCommands {

    /** What a command printed and its exit status. */
    record Reply(String out, String err, int code) {
        static Reply of(StringBuilder out, StringBuilder err, int code) { return new Reply(out.toString(), err.toString(), code); }
        static Reply error(String message, int code) { return new Reply("", message.endsWith("\n") ? message : message + "\n", code); }
    }

    /** The log lines {@code status} shows, read from at most this many bytes at the end of the log. */
    static final int STATUS_LOG_LINES = 10;
    static final int STATUS_LOG_BYTES = 64 * 1024;

    private final ServiceManager services;

    SystemctlCommands(ServiceManager services) { this.services = services; }

    Reply run(SystemctlRequest r) {
        var out = new StringBuilder();
        var err = new StringBuilder();
        int code;
        try {
            code = switch (r.verb()) {
                case "daemon-reload", "daemon-reexec", "mask", "unmask", "reset-failed" -> 0;
                case "preset" -> {
                    // Debian's preset policy is "enable *": deb-systemd-helper enables new units this way
                    for (String u : r.units()) services.enable(u);
                    yield 0;
                }
                case "is-system-running" -> {
                    out.append("running\n");
                    yield 0;
                }
                case "start" -> {
                    for (String u : r.units()) services.start(u);
                    yield 0;
                }
                case "stop" -> {
                    for (String u : r.units()) services.stop(u);
                    yield 0;
                }
                case "restart", "reload", "try-restart", "reload-or-restart", "try-reload-or-restart", "force-reload", "condrestart" -> {
                    for (String u : r.units()) services.restart(u);
                    yield 0;
                }
                case "enable", "reenable" -> {
                    for (String u : r.units()) {
                        services.enable(u);
                        if (r.now()) services.start(u);
                    }
                    yield 0;
                }
                case "disable" -> {
                    for (String u : r.units()) {
                        services.disable(u);
                        if (r.now()) services.stop(u);
                    }
                    yield 0;
                }
                case "is-enabled" -> {
                    boolean all = true;
                    for (String u : r.units()) {
                        boolean e = services.enabled(u);
                        out.append(e ? "enabled" : "disabled").append('\n');
                        all &= e;
                    }
                    yield all ? 0 : 1;
                }
                case "is-active", "is-failed" -> isActive(r, out);
                case "status" -> {
                    int worst = 0;
                    for (String u : r.units()) worst = Math.max(worst, status(u, out));
                    yield worst;
                }
                case "show" -> {
                    for (String u : r.units()) show(u, r, out);
                    yield 0;
                }
                case "cat" -> {
                    for (String u : r.units()) cat(u, out);
                    yield 0;
                }
                case "list-units" -> listUnits(r, out);
                case "list-unit-files" -> listUnitFiles(r, out);
                // kill is refused to non-root callers like every change, but the agent cannot do it yet
                default -> {
                    err.append("bhatti systemctl: '").append(r.verb()).append("' is not supported\n");
                    yield 1;
                }
            };
        } catch (ServiceManager.ServiceException e) {
            err.append(e.getMessage()).append('\n');
            code = e.getMessage().contains("not found") ? 5 : 1;
        }
        if (r.quiet() && r.verb().startsWith("is-")) out.setLength(0); // the exit status is the answer
        return Reply.of(out, err, code);
    }

    private int isActive(SystemctlRequest r, StringBuilder out) throws ServiceManager.ServiceException {
        boolean active = r.verb().equals("is-active");
        boolean match = true;
        for (String u : r.units()) {
            ServiceManager.State st;
            if (ServiceManager.normalize(u).endsWith(".target")) {
                st = ServiceManager.State.ACTIVE; // no targets here: the guest is always fully up
            } else {
                try {
                    st = services.status(u).state();
                } catch (ServiceManager.ServiceException e) {
                    st = ServiceManager.State.INACTIVE; // as systemd: a unit that does not exist is not active
                }
            }
            out.append(st.wire()).append('\n');
            match &= active ? st == ServiceManager.State.ACTIVE : st == ServiceManager.State.FAILED;
        }
        return match ? 0 : active ? 3 : 1;
    }

    private int status(String unit, StringBuilder out) throws ServiceManager.ServiceException {
        var st = services.status(unit);
        out.append("● ").append(st.unit()).append(" - ").append(st.description()).append('\n');
        out.append("     Loaded: loaded (").append(services.fragment(unit)).append("; ")
                .append(services.enabled(unit) ? "enabled" : "disabled").append(")\n");
        out.append("     Active: ").append(st.state().wire()).append(st.state() == ServiceManager.State.FAILED
                ? " (Result: exit-code " + st.lastExit() + ")" : " (" + sub(st) + ")").append('\n');
        if (st.mainPid() > 0) out.append("   Main PID: ").append(st.mainPid()).append('\n');
        if (!st.statusText().isEmpty()) out.append("     Status: \"").append(st.statusText()).append("\"\n");
        List<String> lines = tail(services.log(unit), STATUS_LOG_LINES);
        if (!lines.isEmpty()) out.append('\n');
        for (String l : lines) out.append(l).append('\n');
        return st.state() == ServiceManager.State.ACTIVE ? 0 : 3;
    }

    private void show(String unit, SystemctlRequest r, StringBuilder out) throws ServiceManager.ServiceException {
        var st = services.status(unit);
        var props = new LinkedHashMap<String, Object>();
        props.put("Id", st.unit());
        props.put("Description", st.description());
        props.put("LoadState", "loaded");
        props.put("ActiveState", st.state().wire());
        props.put("SubState", sub(st));
        props.put("UnitFileState", services.enabled(unit) ? "enabled" : "disabled");
        props.put("FragmentPath", services.fragment(unit));
        props.put("MainPID", st.mainPid());
        props.put("ExecMainStatus", st.lastExit());
        props.put("StatusText", st.statusText());
        for (Map.Entry<String, Object> p : props.entrySet()) {
            if (!r.properties().isEmpty() && !r.properties().contains(p.getKey())) continue;
            if (!r.valueOnly()) out.append(p.getKey()).append('=');
            out.append(p.getValue()).append('\n');
        }
    }

    private void cat(String unit, StringBuilder out) throws ServiceManager.ServiceException {
        Path file = services.fragment(unit);
        try {
            out.append("# ").append(file).append('\n').append(Files.readString(file));
        } catch (IOException e) {
            throw new ServiceManager.ServiceException("cannot read " + file + ": " + e.getMessage());
        }
        if (!out.isEmpty() && out.charAt(out.length() - 1) != '\n') out.append('\n');
    }

    private int listUnits(SystemctlRequest r, StringBuilder out) throws ServiceManager.ServiceException {
        var rows = new ArrayList<List<String>>();
        var listed = r.all() ? allUnits() : services.loaded();
        for (var st : listed) {
            if (!r.all() && st.state() == ServiceManager.State.INACTIVE) continue;
            String sub = sub(st);
            if (!r.states().isEmpty() && !r.states().contains(st.state().wire()) && !r.states().contains(sub)) continue;
            rows.add(List.of((st.state() == ServiceManager.State.FAILED ? "●" : " ") + " " + st.unit(), "loaded",
                    st.state().wire(), sub, st.description()));
        }
        table(List.of("  UNIT", "LOAD", "ACTIVE", "SUB", "DESCRIPTION"), rows, r.noLegend(), out);
        if (!r.noLegend()) out.append('\n').append(rows.size()).append(" loaded units listed.\n");
        return 0;
    }

    private List<ServiceManager.Status> allUnits() throws ServiceManager.ServiceException {
        var all = new ArrayList<ServiceManager.Status>();
        for (String unit : services.unitFiles().keySet()) if (unit.endsWith(".service")) all.add(services.status(unit));
        return all;
    }

    private int listUnitFiles(SystemctlRequest r, StringBuilder out) throws ServiceManager.ServiceException {
        var rows = new ArrayList<List<String>>();
        for (String unit : services.unitFiles().keySet()) {
            String state = services.enabled(unit) ? "enabled" : "disabled";
            if (!r.states().isEmpty() && !r.states().contains(state)) continue;
            rows.add(List.of(unit, state));
        }
        table(List.of("UNIT FILE", "STATE"), rows, r.noLegend(), out);
        if (!r.noLegend()) out.append('\n').append(rows.size()).append(" unit files listed.\n");
        return 0;
    }

    private static void table(List<String> header, List<List<String>> rows, boolean noLegend, StringBuilder out) {
        int[] width = new int[header.size()];
        for (int c = 0; c < width.length; c++) {
            width[c] = noLegend ? 0 : header.get(c).length();
            for (var row : rows) width[c] = Math.max(width[c], row.get(c).length());
        }
        if (!noLegend) line(header, width, out);
        for (var row : rows) line(row, width, out);
    }

    private static void line(List<String> cells, int[] width, StringBuilder out) {
        var l = new StringBuilder();
        for (int c = 0; c < cells.size(); c++) {
            l.append(cells.get(c));
            if (c < cells.size() - 1) l.append(" ".repeat(width[c] - cells.get(c).length() + 1));
        }
        out.append(l.toString().stripTrailing()).append('\n');
    }

    /** systemd's SubState for what the agent knows of a service. */
    private static String sub(ServiceManager.Status st) {
        return switch (st.state()) {
            case ACTIVE -> st.mainPid() > 0 ? "running" : "exited";
            case ACTIVATING -> "start";
            case DEACTIVATING -> "stop-sigterm";
            case FAILED -> "failed";
            case INACTIVE -> "dead";
        };
    }

    /** The last {@code count} lines of a log, read from its end only (a log may be larger than the agent's heap). */
    static List<String> tail(Path log, int count) {
        try (var f = new RandomAccessFile(log.toFile(), "r")) {
            long size = f.length();
            int n = (int) Math.min(size, STATUS_LOG_BYTES);
            byte[] buf = new byte[n];
            f.seek(size - n);
            f.readFully(buf);
            List<String> lines = new String(buf, StandardCharsets.UTF_8).lines().toList();
            if (n < size && !lines.isEmpty()) lines = lines.subList(1, lines.size()); // the first may be cut
            return lines.subList(Math.max(0, lines.size() - count), lines.size());
        } catch (IOException e) {
            return List.of(); // no log yet
        }
    }
}
