package dev.bhatti.sdk;

import java.time.Duration;

/**
 * A client of a bhatti daemon. Open one per daemon and key, share it between threads, close it at the end:
 * <pre>{@code
 * try (var bhatti = Bhatti.connect()) {                  // BHATTI_URL / BHATTI_TOKEN, else ~/.bhatti/config.yaml
 *     var sb = bhatti.sandboxes().create(Create.named("agent").cpus(2));
 *     System.out.println(sb.exec("uname", "-a").stdout());
 * }
 * }</pre>
 * Calls block until the daemon answers; every failure is a {@link BhattiException} of its kind, and a
 * mistake in an argument an {@link IllegalArgumentException} before anything is sent.
 */
public final class Bhatti implements AutoCloseable {
    /** How long to wait for a TCP connection to the daemon. */
    public static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(10);
    /**
     * How long to wait for an answer. Generous: creating, starting or snapshotting a sandbox boots or
     * saves a VM, which takes a while on a host without hardware virtualisation.
     */
    public static final Duration DEFAULT_REQUEST_TIMEOUT = Duration.ofMinutes(5);

    private final Transport t;
    private final Sandboxes sandboxes;
    private final Snapshots snapshots;
    private final Secrets secrets;
    private final Images images;
    private final Volumes volumes;

    private Bhatti(Transport t) {
        this.t = t;
        this.sandboxes = new Sandboxes(t);
        this.snapshots = new Snapshots(t);
        this.secrets = new Secrets(t);
        this.images = new Images(t);
        this.volumes = new Volumes(t);
    }

    /** The daemon and key from the environment ({@code BHATTI_URL}, {@code BHATTI_TOKEN}), else the CLI's config file. */
    public static Bhatti connect() { return builder().build(); }

    /** The daemon at {@code url} with {@code token}; a null one is looked up as {@link #connect()} does. */
    public static Bhatti connect(String url, String token) { return builder().url(url).token(token).build(); }

    public static Builder builder() { return new Builder(); }

    /** Where this client connects, and with which key. */
    public BhattiConfig config() { return t.config; }

    public Sandboxes sandboxes() { return sandboxes; }

    public Snapshots snapshots() { return snapshots; }

    public Secrets secrets() { return secrets; }

    public Images images() { return images; }

    public Volumes volumes() { return volumes; }

    /** The daemon's version (from {@code /health}, which needs no key). */
    public String version() { return t.call("GET", "/health", null).path("version").asString(""); }

    /** Ends the client's connections (running calls get a moment to finish) and threads. */
    @Override
    public void close() { t.close(); }

    @Override
    public String toString() { return "Bhatti[" + t.config.url() + "]"; }

    /** A client with explicit settings: {@code Bhatti.builder().url(u).token(k).requestTimeout(Duration.ofMinutes(1)).build()}. */
    public static final class Builder {
        private String url;
        private String token;
        private Duration connectTimeout = DEFAULT_CONNECT_TIMEOUT;
        private Duration requestTimeout = DEFAULT_REQUEST_TIMEOUT;

        private Builder() {}

        /** The daemon's base URL, like {@code http://127.0.0.1:8080} (null: from the environment or the config file). */
        public Builder url(String url) {
            this.url = url;
            return this;
        }

        /** The API key (null: from the environment or the config file). */
        public Builder token(String token) {
            this.token = token;
            return this;
        }

        /** How long to wait for a connection (at most 10 minutes). */
        public Builder connectTimeout(Duration timeout) {
            this.connectTimeout = Validate.positive("connectTimeout", timeout, Duration.ofMinutes(10));
            return this;
        }

        /**
         * How long to wait for an answer to a call (at most a day). An exec waits its command's timeout on
         * top; a streamed exec or file, once its answer has begun, as long as it streams.
         */
        public Builder requestTimeout(Duration timeout) {
            this.requestTimeout = Validate.positive("requestTimeout", timeout, Duration.ofDays(1));
            return this;
        }

        public Bhatti build() {
            return new Bhatti(new Transport(BhattiConfig.resolve(url, token), connectTimeout, requestTimeout));
        }
    }
}
