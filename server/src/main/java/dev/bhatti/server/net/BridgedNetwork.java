package dev.bhatti.server.net;

import dev.bhatti.engine.GuestNet;
import dev.bhatti.server.error.DomainException;
import dev.bhatti.server.store.NetworkRecord;
import dev.bhatti.server.store.SandboxRecord;
import dev.bhatti.server.store.Store;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Locale;

/**
 * A bridge and a /24 per user, a TAP and an address per sandbox, one nftables ruleset for all, and a
 * DNS resolver on each user's gateway. The store is the source of truth (which sandbox has which
 * address, MAC and TAP); links and rules are derived from it, so a crash leaves nothing the next
 * {@link #start} cannot put right.
 */
public final class BridgedNetwork implements SandboxNetwork {
    private static final Logger log = LoggerFactory.getLogger(BridgedNetwork.class);
    static final String TAP_PREFIX = "bt";
    static final String BRIDGE_PREFIX = "bhbr";
    private static final SecureRandom RANDOM = new SecureRandom();

    private final NetworkConfig config;
    private final Store store;
    private final HostNetwork host;
    private final NetnsSockets sockets;
    private final DnsResolver resolver;
    /** Serializes allocation and rule changes: nft transactions and address picks must not interleave. */
    private final ReentrantLock lock = new ReentrantLock();
    /** Addresses opened by DNS answers: tap -> ip -> expiry (epoch ms); kept so a ruleset rewrite keeps them. */
    private final Map<String, Map<String, Long>> learned = new ConcurrentHashMap<>();

    public BridgedNetwork(NetworkConfig config, Store store) throws NetworkException {
        this.config = config;
        this.store = store;
        this.host = new HostNetwork(config.netns());
        this.sockets = new NetnsSockets(config.netns());
        var upstreams = config.dnsUpstreams().isEmpty() ? NetworkConfig.hostNameservers() : config.dnsUpstreams();
        if (upstreams.isEmpty()) log.warn("no DNS upstreams (network.dns_upstreams, or nameservers in /etc/resolv.conf): sandboxes resolve only each other");
        this.resolver = new DnsResolver(sockets, upstreams, new Directory());
    }

    /** The TAP a sandbox gets unless that name is taken: its id's last 13 characters. */
    public static String tapName(String sandboxId) { return TAP_PREFIX + sandboxId.substring(Math.max(0, sandboxId.length() - 13)); }

    public static String bridgeName(int subnetIndex) { return BRIDGE_PREFIX + subnetIndex; }

    @Override
    public void start() throws NetworkException {
        lock.lock();
        try {
            refuseOverlappingRoutes();
            host.enableForwarding();
            Map<String, Integer> subnets = store.subnets();
            List<NetworkRecord> networks = store.networks();
            var liveTaps = new HashSet<String>();
            var liveBridges = new HashSet<String>();
            for (NetworkRecord n : networks) {
                Integer index = subnets.get(n.userId());
                if (index == null) continue;
                liveTaps.add(n.tap());
                liveBridges.add(bridgeName(index));
            }
            for (String tap : host.links(TAP_PREFIX)) {
                if (!liveTaps.contains(tap) && tap.matches(TAP_PREFIX + "[0-9a-f]{1,13}")) {
                    host.deleteLink(tap);
                    log.info("removed orphan TAP {}", tap);
                }
            }
            for (String bridge : host.links(BRIDGE_PREFIX)) {
                if (!liveBridges.contains(bridge) && bridge.matches(BRIDGE_PREFIX + "[0-9]+")) {
                    host.deleteLink(bridge);
                    log.info("removed orphan bridge {}", bridge);
                }
            }
            for (var e : subnets.entrySet()) {
                if (!liveBridges.contains(bridgeName(e.getValue()))) continue;
                ensureBridge(e.getValue());
                resolver.serve(e.getKey(), config.pool().gateway(e.getValue()));
            }
            applyRules();
            log.info("networking: pool {}, {} sandboxes on {} bridges{}", config.pool().cidr(), networks.size(), liveBridges.size(),
                    config.netns() == null ? "" : " in network namespace " + config.netns());
        } finally {
            lock.unlock();
        }
    }

    /**
     * An allowed address in a private range the operator did not open would only ever time out: a
     * user hears why at create instead (older sandboxes' lists, and clones of them, are simply
     * overruled by the firewall).
     */
    @Override
    public void admit(Egress egress) {
        for (String a : egress.addresses()) {
            config.allowPrivate().refused(a).ifPresent(r -> {
                throw DomainException.invalid("allowed host " + a + ": sandboxes on this server may not reach " + r.cidr() + " (" + r.what()
                        + ") unless the operator allows it in config.yaml under " + PrivateRanges.KEY);
            });
        }
    }

    @Override
    public GuestNet attach(SandboxRecord sandbox, Egress egress) {
        lock.lock();
        try {
            int index = store.assignSubnet(sandbox.userId(), config.pool().capacity()).orElseThrow(() -> DomainException.unavailable(
                    "the address pool " + config.pool().cidr() + " has no /24 left for another user; widen network.pool in config.yaml "
                            + "or delete unused users"));
            var used = new HashSet<Integer>();
            for (NetworkRecord n : store.networks()) {
                if (n.userId().equals(sandbox.userId())) used.add(config.pool().hostOf(index, n.ip()));
            }
            int hostNumber = Subnets.FIRST_HOST;
            while (used.contains(hostNumber)) hostNumber++;
            if (hostNumber > Subnets.LAST_HOST) {
                throw DomainException.unavailable("this user's network " + config.pool().subnetCidr(index) + " is full ("
                        + (Subnets.LAST_HOST - Subnets.FIRST_HOST + 1) + " sandboxes); destroy one first");
            }
            String ip = config.pool().host(index, hostNumber);
            String gateway = config.pool().gateway(index);
            NetworkRecord record = null;
            for (int attempt = 0; attempt < 5 && record == null; attempt++) {
                // names are at most 15 bytes; on the (rare) clash of two ids' names take a random one
                String tap = attempt == 0 ? tapName(sandbox.id()) : TAP_PREFIX + HexFormat.of().formatHex(randomBytes(7)).substring(0, 13);
                var candidate = new NetworkRecord(sandbox.id(), sandbox.userId(), ip, randomMac(), tap, egress.wire(), egress.allow());
                if (store.insertNetwork(candidate)) record = candidate;
            }
            if (record == null) throw DomainException.failed("could not give the sandbox a unique MAC address and TAP");
            String bridge = bridgeName(index);
            try {
                ensureBridge(index);
                host.ensureTap(record.tap(), bridge);
                host.forget(ip, bridge);
                applyRules();
            } catch (NetworkException e) {
                undoAttach(record, e);
                throw DomainException.failed("could not set up the sandbox's network: " + e.getMessage());
            }
            resolver.serve(sandbox.userId(), gateway);
            return new GuestNet(record.tap(), record.mac(), ip + "/24", gateway);
        } finally {
            lock.unlock();
        }
    }

    private void undoAttach(NetworkRecord record, NetworkException cause) {
        try {
            host.deleteLink(record.tap());
        } catch (NetworkException e) {
            cause.addSuppressed(e);
        }
        store.deleteNetwork(record.sandboxId());
    }

    @Override
    public void prepare(String sandboxId) throws NetworkException {
        Optional<NetworkRecord> n = store.network(sandboxId);
        if (n.isEmpty()) return;
        Integer index = store.subnets().get(n.get().userId());
        if (index == null) throw new NetworkException("the sandbox's user has no subnet");
        String bridge = bridgeName(index);
        lock.lock();
        try {
            ensureBridge(index);
            host.ensureTap(n.get().tap(), bridge);
            host.forget(n.get().ip(), bridge);
        } finally {
            lock.unlock();
        }
        resolver.serve(n.get().userId(), config.pool().gateway(index));
    }

    @Override
    public void detach(String sandboxId) {
        Optional<NetworkRecord> n = store.network(sandboxId);
        if (n.isEmpty()) return;
        lock.lock();
        try {
            Integer index = store.subnets().get(n.get().userId());
            store.deleteNetwork(sandboxId);
            learned.remove(n.get().tap());
            try {
                host.deleteLink(n.get().tap());
                if (index != null) host.forget(n.get().ip(), bridgeName(index));
                boolean lastOfUser = store.networks().stream().noneMatch(o -> o.userId().equals(n.get().userId()));
                if (lastOfUser && index != null) {
                    resolver.stop(n.get().userId());
                    host.deleteLink(bridgeName(index));
                }
                applyRules();
            } catch (NetworkException e) {
                // the reconciler removes what is left at the next start
                log.warn("sandbox {}: network cleanup incomplete: {}", sandboxId, e.getMessage());
            }
        } finally {
            lock.unlock();
        }
    }

    @Override
    public Optional<View> view(String sandboxId) {
        return store.network(sandboxId).map(n -> {
            Integer index = store.subnets().get(n.userId());
            return new View(n.ip(), index == null ? "" : config.pool().gateway(index), n.egress(), n.allowHosts());
        });
    }

    /** Rewrites the whole ruleset from the store (caller holds the lock). */
    private void applyRules() throws NetworkException {
        Map<String, Integer> subnets = store.subnets();
        var bridges = new ArrayList<Firewall.Bridge>();
        var sandboxes = new ArrayList<Firewall.Sandbox>();
        var seen = new HashSet<Integer>();
        long now = System.currentTimeMillis();
        for (NetworkRecord n : store.networks()) {
            Integer index = subnets.get(n.userId());
            if (index == null) continue;
            if (seen.add(index)) bridges.add(new Firewall.Bridge(bridgeName(index), config.pool().gateway(index)));
            var egress = new Egress(n.egress().equals("all"), n.allowHosts());
            var remaining = new LinkedHashMap<String, Long>();
            learned.getOrDefault(n.tap(), Map.of()).forEach((ip, expiry) -> {
                long s = (expiry - now) / 1000;
                if (s > 0) remaining.put(ip, s);
            });
            sandboxes.add(new Firewall.Sandbox(n.tap(), bridgeName(index), n.ip(), n.mac(), egress.all(), egress.addresses(), remaining));
        }
        host.applyRuleset(Firewall.render(config.pool().cidr(), config.allowPrivate(), bridges, sandboxes));
    }

    private static byte[] randomBytes(int n) {
        byte[] b = new byte[n];
        RANDOM.nextBytes(b);
        return b;
    }

    /**
     * A network the host already routes (its LAN, a VPN) that lies inside the pool would clash with a
     * user's bridge, hiding its hosts from the sandboxes and the host without any error: the daemon says
     * so and does not start. A wider routed network holding the pool (a corporate 10.0.0.0/8, say) only
     * loses the pool's addresses, which is worth a warning. Our own bridges' routes are the pool's.
     */
    private void refuseOverlappingRoutes() throws NetworkException {
        for (HostNetwork.Route r : host.routes()) {
            if (r.device().startsWith(BRIDGE_PREFIX) || !config.pool().overlaps(r.destination())) continue;
            String where = r.destination() + (r.device().isEmpty() ? "" : " (routed on " + r.device() + ")")
                    + (config.netns() == null ? "" : " in network namespace " + config.netns());
            int length = Integer.parseInt(r.destination().substring(r.destination().indexOf('/') + 1));
            if (length >= config.pool().prefix()) {
                throw new NetworkException("network.pool " + config.pool().cidr() + " holds " + where + ", a network the host already"
                        + " uses: sandboxes could not reach it, nor it them. Choose a pool nothing else uses in config.yaml,"
                        + " e.g. network.pool: 10.200.0.0/16");
            }
            if (length > 1) { // 0.0.0.0/1 and 128.0.0.0/1 are a VPN's default route
                log.warn("network.pool {} lies inside {}: hosts of that network with addresses in the pool cannot be reached "
                        + "from the sandboxes or this host", config.pool().cidr(), where);
            }
        }
    }

    private void ensureBridge(int subnetIndex) throws NetworkException {
        String gateway = config.pool().gateway(subnetIndex);
        host.ensureBridge(bridgeName(subnetIndex), gateway + "/24", gatewayMac(gateway));
    }

    /**
     * The gateway's MAC, fixed by its address: stable across daemon restarts and bridge re-creations, so
     * no guest ever holds a stale one. Guests' MACs are random under the same 02: (locally administered).
     */
    static String gatewayMac(String gatewayIp) {
        var sb = new StringBuilder("02:62");
        for (String octet : gatewayIp.split("\\.")) sb.append(':').append(String.format("%02x", Integer.parseInt(octet)));
        return sb.toString();
    }

    private static String randomMac() {
        byte[] b = randomBytes(5);
        var sb = new StringBuilder("02"); // locally administered, unicast
        for (byte x : b) sb.append(':').append(String.format("%02x", x & 0xff));
        return sb.toString();
    }

    /** The resolver's view of the store. */
    private final class Directory implements DnsResolver.Directory {
        @Override
        public Optional<String> sibling(String userId, String name) {
            // DNS names know no case (the question comes lower-cased): "Web" answers to web, unless that is ambiguous
            Optional<SandboxRecord> exact = store.sandbox(userId, name).filter(s -> s.name().equals(name));
            Optional<SandboxRecord> sandbox = exact.isPresent() ? exact : onlyOne(store.sandboxes(userId).stream()
                    .filter(s -> s.name().equalsIgnoreCase(name)).toList());
            return sandbox.flatMap(s -> store.network(s.id())).map(NetworkRecord::ip);
        }

        private static Optional<SandboxRecord> onlyOne(List<SandboxRecord> matches) {
            return matches.size() == 1 ? Optional.of(matches.getFirst()) : Optional.empty();
        }

        @Override
        public Optional<String> siblingAt(String userId, String ip) {
            return networkAt(userId, ip).flatMap(n -> store.sandboxById(n.sandboxId())).map(s -> s.name().toLowerCase(Locale.ROOT));
        }

        private Optional<NetworkRecord> networkAt(String userId, String ip) {
            return store.networks().stream().filter(n -> n.userId().equals(userId) && n.ip().equals(ip)).findFirst();
        }

        @Override
        public boolean inPool(String ip) { return config.pool().contains(ip); }

        @Override
        public Optional<Map.Entry<String, Egress>> sandboxAt(String userId, String ip) {
            return networkAt(userId, ip).map(n -> Map.entry(n.tap(), new Egress(n.egress().equals("all"), n.allowHosts())));
        }

        @Override
        public void learned(String tap, String ip, long seconds) {
            learned.computeIfAbsent(tap, t -> new ConcurrentHashMap<>()).merge(ip, System.currentTimeMillis() + seconds * 1000, Math::max);
            try {
                host.addToSet(Firewall.learnedSet(tap), ip, seconds);
            } catch (NetworkException e) {
                log.warn("could not open {} for {}: {}", ip, tap, e.getMessage());
            }
        }
    }

    @Override
    public void close() {
        resolver.close();
        sockets.close();
    }
}
