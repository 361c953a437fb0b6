package dev.bhatti.server.metrics;

import dev.bhatti.engine.Engine;
import dev.bhatti.engine.VmInfo;
import dev.bhatti.server.store.SandboxRecord;
import dev.bhatti.server.store.Store;
import dev.bhatti.server.store.UserRecord;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Every sandbox as it is now, for metrics: its owner, its state as the engine sees it (hot, warm, cold;
 * starting, stopped or error otherwise; the stored status when the engine has no VM for it) and the
 * host process of its VM. Reads only.
 */
public final class SandboxCensus {

    /** One sandbox: {@code pid} is its QEMU's, 0 without a running VM process. */
    public record Entry(String user, String sandbox, String state, long pid) {}

    /** What {@link #take} counted: each sandbox, and the number of users. */
    public record Count(List<Entry> sandboxes, int users) {
        /** Sandboxes in {@code state}. */
        public int in(String state) { return (int) sandboxes.stream().filter(e -> e.state().equals(state)).count(); }

        /** Sandboxes by state, in name order. */
        public Map<String, Integer> byState() {
            var out = new TreeMap<String, Integer>();
            for (Entry e : sandboxes) out.merge(e.state(), 1, Integer::sum);
            return out;
        }
    }

    private final Store store;
    private final Engine engine;

    public SandboxCensus(Store store, Engine engine) {
        this.store = store;
        this.engine = engine;
    }

    public Count take() {
        Map<String, String> names = new HashMap<>();
        List<UserRecord> users = store.users();
        for (UserRecord u : users) names.put(u.id(), u.name());
        var out = new ArrayList<Entry>();
        for (SandboxRecord s : store.allSandboxes()) {
            Optional<VmInfo> vm = engine.info(s.id());
            out.add(new Entry(names.getOrDefault(s.userId(), s.userId()), s.name(), state(s, vm), vm.map(VmInfo::pid).orElse(0L)));
        }
        return new Count(List.copyOf(out), users.size());
    }

    static String state(SandboxRecord s, Optional<VmInfo> vm) {
        if (vm.isEmpty()) return s.status().wire();
        String thermal = vm.get().state().thermal();
        return thermal.isEmpty() ? vm.get().state().wire() : thermal;
    }
}
