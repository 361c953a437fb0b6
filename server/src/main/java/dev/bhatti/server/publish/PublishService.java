package dev.bhatti.server.publish;

import dev.bhatti.server.error.DomainException;
import dev.bhatti.server.auth.ApiKeys;
import dev.bhatti.server.store.PublishRecord;
import dev.bhatti.server.store.SandboxRecord;
import dev.bhatti.server.store.Store;
import dev.bhatti.server.store.UserRecord;

import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;
import java.time.Duration;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Pattern;

/**
 * Publishing sandbox ports at public host names. An alias names one (sandbox, port) for everyone, so
 * aliases are unique across users; a sandbox's port has at most one alias. Rules go with the sandbox.
 */
public final class PublishService {
    private static final Pattern ALIAS = Pattern.compile("[a-z0-9][a-z0-9-]{0,62}");
    static final Set<String> RESERVED = Set.of("www", "mail", "admin", "status", "ns1", "ns2", "api", "app", "_acme-challenge", "shell");

    /** How long a publish waits for its host's certificate before answering "pending". */
    static final Duration CERTIFICATE_WAIT = Duration.ofSeconds(60);

    private final Store store;
    private final Supplier<ProxyConfig> proxy;
    private final Supplier<HostCertificates> certificates;
    private final Supplier<String> noProxy;

    /**
     * {@code proxy} answers null when no public proxy runs, and {@code noProxy} then says why (turned
     * off, or its default port was taken) and what to set.
     */
    public PublishService(Store store, Supplier<ProxyConfig> proxy, Supplier<HostCertificates> certificates, Supplier<String> noProxy) {
        this.store = store;
        this.proxy = proxy;
        this.certificates = certificates;
        this.noProxy = noProxy;
    }

    /**
     * A rule and its URL. {@code certificate} is null unless the proxy gets a certificate per host name:
     * then "ready", "pending" (still being issued; the URL works once it is) or "failed: why".
     */
    public record Published(PublishRecord rule, String url, boolean existing, String certificate) {
        Published(PublishRecord rule, String url, boolean existing) { this(rule, url, existing, null); }
    }

    /** The rule, with its host's certificate asked for (and waited for a while) when the proxy needs one. */
    private Published certified(Published p) {
        ProxyConfig config = proxy.get();
        if (config == null) return p;
        var issuing = certificates.get().ensure(p.rule().alias() + "." + config.domain());
        if (issuing == null) return p;
        String state;
        try {
            issuing.get(CERTIFICATE_WAIT.toMillis(), TimeUnit.MILLISECONDS);
            state = "ready";
        } catch (TimeoutException e) {
            state = "pending";
        } catch (ExecutionException e) {
            Throwable cause = e.getCause() instanceof CompletionException c && c.getCause() != null ? c.getCause() : e.getCause();
            state = "failed: " + cause.getMessage();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            state = "pending";
        }
        return new Published(p.rule(), p.url(), p.existing(), state);
    }

    public Published publish(UserRecord user, SandboxRecord sandbox, Integer port, String alias) {
        if (port == null || port < 1 || port > 65535) throw DomainException.invalid("port must be from 1 to 65535");
        if (alias != null) {
            alias = alias.toLowerCase(Locale.ROOT);
            if (!ALIAS.matcher(alias).matches() || alias.endsWith("-")) {
                throw DomainException.invalid("alias must be 1 to 63 lower-case letters, digits and '-', starting with a letter or digit");
            }
            if (RESERVED.contains(alias)) throw DomainException.invalid("alias " + alias + " is reserved; pick another");
        }
        for (PublishRecord r : store.publishes(sandbox.id())) {
            if (r.port() != port) continue;
            if (alias == null || alias.equals(r.alias())) return certified(new Published(r, url(r), true));
            throw DomainException.conflict("port " + port + " is published as " + r.alias() + " already; unpublish it first: bhatti unpublish "
                    + sandbox.name() + " -p " + port);
        }
        for (int attempt = 0; attempt < 5; attempt++) {
            String a = alias != null ? alias : autoAlias(sandbox.name());
            var rule = new PublishRecord("pub_" + ApiKeys.randomHex(8), user.id(), sandbox.id(), port, a, Instant.now().truncatedTo(ChronoUnit.MILLIS));
            switch (store.insertPublish(rule)) {
                case INSERTED -> { return certified(new Published(rule, url(rule), false)); }
                case PORT_PUBLISHED -> {
                    // a concurrent publish of the same port won
                    var theirs = store.publishes(sandbox.id()).stream().filter(r -> r.port() == port).findFirst().orElseThrow();
                    return certified(new Published(theirs, url(theirs), true));
                }
                case ALIAS_TAKEN -> {
                    if (alias != null) throw DomainException.conflict("alias " + alias + " is taken; pick another");
                }
            }
        }
        throw DomainException.failed("could not find a free alias; give one with --alias");
    }

    /** Whether any port of the sandbox is published. */
    public boolean hasPublished(SandboxRecord sandbox) { return !store.publishes(sandbox.id()).isEmpty(); }

    public List<Published> list(SandboxRecord sandbox) {
        return store.publishes(sandbox.id()).stream().map(r -> new Published(r, url(r), true)).toList();
    }

    public void unpublish(SandboxRecord sandbox, int port) {
        if (!store.deletePublish(sandbox.id(), port)) {
            throw DomainException.notFound("port " + port + " of " + sandbox.name() + " is not published");
        }
        releaseCertificates();
    }

    /** After rules went away (an unpublish, a destroyed sandbox): certificates of names no longer published go. */
    public void releaseCertificates() { certificates.get().released(); }

    /** The rule for a request's alias, if any. */
    public Optional<PublishRecord> route(String alias) { return store.publishByAlias(alias); }

    /** The API's public https URL when the proxy serves it ({@code proxy.tls.api_host}). */
    public Optional<String> apiUrl() {
        ProxyConfig p = proxy.get();
        return p == null || p.tls() == null ? Optional.empty() : p.tls().apiUrl();
    }

    /** The public URL, or "" when no proxy runs ({@link #whyNoUrl}). */
    public String url(PublishRecord r) {
        ProxyConfig p = proxy.get();
        return p == null ? "" : p.url(r.alias());
    }

    /** Why published ports have no URL, with what to change; empty while the proxy runs. */
    public Optional<String> whyNoUrl() {
        if (proxy.get() != null) return Optional.empty();
        String why = noProxy.get();
        return Optional.of(why != null ? why : "no public proxy runs");
    }

    /** The sandbox's name made an alias: lower case, other characters as '-', plus 6 random hex digits. */
    static String autoAlias(String name) {
        String base = name.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9-]", "-").replaceAll("-+", "-").replaceAll("^-|-$", "");
        if (base.isEmpty()) base = "sandbox";
        if (base.length() > 55) base = base.substring(0, 55).replaceAll("-$", "");
        return base + "-" + ApiKeys.randomHex(3);
    }
}
