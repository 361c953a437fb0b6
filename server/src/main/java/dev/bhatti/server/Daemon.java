package dev.bhatti.server;

import dev.bhatti.engine.qemu.EngineConfig;
import dev.bhatti.engine.qemu.QemuEngine;
import dev.bhatti.server.api.ApiHandler;
import dev.bhatti.server.auth.AdminBootstrap;
import dev.bhatti.server.forward.Forwards;
import dev.bhatti.server.publish.ProxyBackends;
import dev.bhatti.server.publish.HostCertificates;
import dev.bhatti.server.publish.ProxyConfig;
import dev.bhatti.server.proxy.ProxyServer;
import dev.bhatti.server.publish.PublishService;
import dev.bhatti.server.image.ImageService;
import dev.bhatti.server.metrics.DaemonGauges;
import dev.bhatti.server.metrics.Metrics;
import dev.bhatti.server.metrics.MetricsHistory;
import dev.bhatti.server.metrics.MetricsToken;
import dev.bhatti.server.metrics.SandboxCensus;
import dev.bhatti.server.volume.VolumeBackupService;
import dev.bhatti.server.volume.VolumeAttachments;
import dev.bhatti.server.volume.VolumeFiles;
import dev.bhatti.server.volume.backup.BackupConfig;
import dev.bhatti.server.volume.backup.BackupKey;
import dev.bhatti.server.volume.backup.BackupScheduler;
import dev.bhatti.server.volume.backup.VolumeBackups;
import dev.bhatti.server.volume.VolumeService;
import dev.bhatti.server.task.Tasks;
import dev.bhatti.server.sandbox.ImageLookup;
import dev.bhatti.server.sandbox.SandboxService;
import dev.bhatti.server.store.SqliteStore;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.eclipse.jetty.websocket.server.ServerWebSocketContainer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.Executors;
import dev.bhatti.engine.qemu.JailConfig;
import dev.bhatti.server.api.JsonErrorHandler;
import dev.bhatti.server.api.Route;
import dev.bhatti.server.events.Events;
import dev.bhatti.server.net.BridgedNetwork;
import dev.bhatti.server.net.NetworkException;
import dev.bhatti.server.net.SandboxNetwork;
import dev.bhatti.server.ratelimit.RateLimits;
import dev.bhatti.server.sandbox.Activity;
import dev.bhatti.server.sandbox.SandboxLifecycle;
import dev.bhatti.server.sandbox.SnapshotService;
import dev.bhatti.server.sandbox.ThermalManager;
import dev.bhatti.server.secrets.SecretBox;
import dev.bhatti.server.secrets.SecretService;
import java.time.Clock;
import java.time.Duration;
import java.util.List;

/** Wires store, engine, sandboxes and the HTTP API together and runs them until stopped. */
public final class Daemon implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Daemon.class);

    private final ServerConfig config;
    private FileChannel lockChannel;
    private SqliteStore store;
    private QemuEngine engine;
    private ApiHandler api;
    private Server http;
    private Forwards forwards;
    private ProxyBackends backends;
    private volatile ProxyServer proxy;
    /** Why no public proxy runs (null while one does): publish replies say it instead of a URL. */
    private volatile String noProxy;
    private ThermalManager thermal;
    private Thread retention;
    private SandboxNetwork network;
    private VolumeBackups backups;
    private BackupScheduler backupSchedule;
    private SandboxService sandboxes;

    /**
     * A file in the data directory that asks the next shutdown to put every running sandbox to disk (cold)
     * instead of leaving its VM running: the uninstaller's way to leave no VM behind and lose no state.
     */
    public static final String DRAIN_MARKER = "drain-on-stop";
    private MetricsHistory metricsHistory;

    public Daemon(ServerConfig config) { this.config = config; }

    /**
     * Starts everything; returns once the API accepts requests. On first start the admin's key also goes
     * to {@code cliConfig} (owned by {@code cliConfigOwner} if not null) unless that file exists.
     */
    public void start(Path cliConfig, String cliConfigOwner) throws Exception {
        Path data = config.dataDir();
        PrivateDataDir.restrictUmask(); // before anything is created, by us or by the VMs' processes
        Files.createDirectories(data);
        PrivateDataDir.tighten(data);
        Files.createDirectories(data.resolve("images"));
        Files.createDirectories(data.resolve("sandboxes"));
        lockChannel = FileChannel.open(data.resolve("daemon.lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        FileLock lock = lockChannel.tryLock();
        if (lock == null) throw new IllegalStateException("another bhatti daemon is already using " + data);

        store = SqliteStore.open(data.resolve("state.db"));
        var events = new Events(store);
        retention = events.startRetention();
        var net = config.network();
        var engineConfig = new EngineConfig(data, config.accel(), config.qemuBinary(), "qemu-img", config.bootTimeout(),
                net.enabled() ? net.netns() : null, JailConfig.enabled(config.jail()), config.memoryFile());
        network = net.enabled() ? new BridgedNetwork(net, store) : new SandboxNetwork.None();
        engine = new QemuEngine(engineConfig);
        var activity = new Activity(Clock.systemUTC());
        var metrics = new Metrics();
        var secrets = new SecretService(store,
                SecretBox.open(data, store.countAllSecrets()));
        var tasks = new Tasks(Clock.systemUTC());
        var images = new ImageService(store, engineConfig.imagesDir(), tasks, engine::tiers, engine::pruneUnusedBases);
        var volumes = new VolumeService(store, engine, new VolumeFiles(data.resolve("volumes")));
        var attachments = new VolumeAttachments(store, volumes);
        sandboxes = new SandboxService(store, engine, engine.accelerator().wire(), activity, secrets, events, network,
                (user, name) -> images.bootable(user, name).map(b -> new ImageLookup.UserImage(b.rootfs(), b.config().env(),
                        b.config().workingDir(), b.config().user(), b.config().entrypoint(), b.config().cmd())), attachments, metrics, config.defaultImage());
        sandboxes.recover();
        volumes.reconcile(); // after the sandboxes: a create the last daemon left unfinished has let its volumes go
        try {
            network.start();
        } catch (NetworkException e) {
            // a host that cannot give sandboxes their network (say, a clashing pool): the message says why
            throw new IllegalStateException(e.getMessage(), e);
        }
        var snapshots = new SnapshotService(store, engine, sandboxes, attachments);
        snapshots.reconcile();
        engine.pruneUnusedBases(); // what deletes and rebuilds while the daemon was down left unused
        thermal = new ThermalManager(store, sandboxes.lifecycle(), config.thermal(), Clock.systemUTC(), events);
        thermal.start();
        var census = new SandboxCensus(store, engine);
        DaemonGauges.register(metrics, census, data);
        metricsHistory = new MetricsHistory(store, census, metrics, data, Clock.systemUTC());
        metricsHistory.start();
        var volumeBackups = new VolumeBackupService(volumes, startBackups(data, secrets), tasks, store);
        if (backups != null && !config.backup().schedule().isEmpty()) {
            backupSchedule = BackupScheduler.start(config.backup().schedule(), volumeBackups::scheduled);
        }

        var threads = new QueuedThreadPool();
        threads.setName("bhatti-http");
        threads.setVirtualThreadsExecutor(Executors.newVirtualThreadPerTaskExecutor());
        http = new Server(threads);
        http.setErrorHandler(new JsonErrorHandler()); // JSON, not HTML, for what Jetty refuses itself
        var connector = new ServerConnector(http);
        connector.setHost(config.host());
        connector.setPort(config.port());
        http.addConnector(connector);
        var websockets = ServerWebSocketContainer.ensure(http);
        websockets.setIdleTimeout(Duration.ofMinutes(10)); // the relay pings every 30 s
        var lifecycle = sandboxes.lifecycle();
        forwards = new Forwards((id, port, client) -> lifecycle.tunnel(SandboxLifecycle.Waker.FORWARD, id, port, client));
        backends = new ProxyBackends((id, port, client) -> lifecycle.tunnel(SandboxLifecycle.Waker.PROXY, id, port, client));
        var publishes = new PublishService(store, () -> proxy == null ? null : proxy.config(),
                () -> proxy == null ? HostCertificates.NONE : proxy.hostCertificates(), () -> noProxy);
        api = new ApiHandler(store, sandboxes, snapshots, secrets, websockets, forwards,
                new RateLimits(config.rateLimits()), events, publishes, backends, images, tasks, volumes, volumeBackups,
                metrics, metricsHistory, new MetricsToken(data));
        http.setHandler(api);
        // the public proxy first: once the API answers, everything does
        proxy = startProxy(publishes);
        http.start();
        // After the listener is up, so that the CLI config names the real port (the flag may say 0).
        AdminBootstrap.ensureAdmin(store, data, config.withPort(port()).url(), cliConfig, cliConfigOwner);
        events.record("daemon.start", null, null, config.withPort(port()).url() + ", engine qemu/" + engine.accelerator().wire());
        log.info("bhatti daemon listening on {} (data dir {}, engine qemu/{})", config.withPort(port()).url(), data, engine.accelerator().wire());
    }

    /**
     * The public proxy, or null: when config.yaml turns it off, or when the default one (no proxy:
     * section) finds its port taken. That is logged and told to every publish instead of stopping the
     * daemon over a port the operator never chose; a proxy the operator configured must start.
     */
    private ProxyServer startProxy(PublishService publishes) throws Exception {
        ProxyConfig p = config.proxy();
        if (p == null) {
            noProxy = "the public proxy is turned off (proxy: {enabled: false} in the daemon's config.yaml)";
            return null;
        }
        try {
            return ProxyServer.start(p, config.dataDir(), publishes, backends, store::publishedAliases, api);
        } catch (IOException e) {
            if (!p.implicit()) throw e;
            noProxy = "the public proxy is not running: its default address " + p.listen() + " was taken when the daemon started;"
                    + " set proxy.listen and proxy.domain in the daemon's config.yaml (or free the port) and restart the daemon";
            log.warn("{} ({})", noProxy, e.getMessage());
            return null;
        }
    }

    /** The port the public proxy listens on, or -1 without one. */
    public int proxyPort() { return proxy == null ? -1 : proxy.config().port(); }

    public void join() throws InterruptedException { http.join(); }

    /** The API's routes, as the router holds them. */
    public List<Route> apiRoutes() { return api.routes(); }

    /**
     * The backup store of config.yaml, or null without one. Its credentials may name the admin's secrets;
     * a store that does not answer now is logged, not fatal: backups say why when they are asked for.
     */
    private VolumeBackups startBackups(Path data, SecretService secrets) throws IOException {
        BackupConfig cfg = config.backup();
        if (cfg == null) return null;
        var admin = store.userByName("admin").orElse(null);
        var credentials = cfg.credentials(name -> admin == null ? null
                : secrets.remainingValues(admin, List.of(name)).get(name));
        backups = new VolumeBackups(cfg, credentials, BackupKey.open(data));
        try {
            backups.check();
            log.info("volume backups go to {} bucket {} (key {})", cfg.endpoint(), cfg.bucket(), data.resolve(BackupKey.KEY_FILE));
        } catch (RuntimeException e) {
            log.warn("the volume backup store does not answer now: {}", e.getMessage());
        }
        return backups;
    }

    /** The port the API actually listens on (useful with port 0). */
    public int port() { return ((ServerConnector) http.getConnectors()[0]).getLocalPort(); }

    /** With {@link #DRAIN_MARKER} present: every running sandbox goes to disk, one by one; failures are logged and left running. */
    private void drainIfAsked() {
        Path marker = config.dataDir().resolve(DRAIN_MARKER);
        if (sandboxes == null || !Files.exists(marker)) return;
        for (var s : store.allSandboxes()) {
            if (s.status() != dev.bhatti.server.store.SandboxStatus.RUNNING) continue;
            try {
                sandboxes.lifecycle().stop(s);
                log.info("drain: sandbox {} ({}) is on disk", s.name(), s.id());
            } catch (RuntimeException e) {
                log.warn("drain: sandbox {} ({}) could not go to disk and is left running: {}", s.name(), s.id(), e.getMessage());
            }
        }
        try {
            Files.deleteIfExists(marker);
        } catch (IOException e) {
            log.warn("drain: could not remove {}: {}", marker, e.getMessage());
        }
    }

    /** Stops serving. Running VMs are left running (the next daemon adopts them), unless a drain was asked for. */
    @Override
    public void close() {
        try {
            if (proxy != null) proxy.close();
            if (http != null) http.stop();
        } catch (Exception e) {
            log.warn("stopping http: {}", e.getMessage());
        }
        if (backends != null) backends.close();
        if (thermal != null) thermal.close();
        if (metricsHistory != null) metricsHistory.close();
        drainIfAsked();
        if (backupSchedule != null) {
            try {
                backupSchedule.close();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (backups != null) backups.close();
        if (retention != null) retention.interrupt();
        if (forwards != null) forwards.close();
        if (engine != null) engine.close();
        if (network != null) network.close();
        if (store != null) store.close();
        try {
            if (lockChannel != null) lockChannel.close();
        } catch (IOException ignored) {
            // the lock dies with the process anyway
        }
    }
}
