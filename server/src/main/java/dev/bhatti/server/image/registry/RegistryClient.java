package dev.bhatti.server.image.registry;

import dev.bhatti.server.image.registry.RegistryException.Kind;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongConsumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The pull half of the OCI distribution API: manifests (an image index or Docker manifest list is
 * resolved to one platform), blobs streamed to disk with their digest checked, anonymous, basic and
 * bearer-token authentication (the {@code WWW-Authenticate: Bearer realm=...} challenge public
 * registries use). Registries on loopback are spoken to over plain HTTP, every other over HTTPS.
 */
public final class RegistryClient {
    static final String OCI_INDEX = "application/vnd.oci.image.index.v1+json";
    static final String OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
    static final String DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json";
    static final String DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json";
    private static final String ACCEPT = String.join(", ", OCI_INDEX, OCI_MANIFEST, DOCKER_LIST, DOCKER_MANIFEST);
    /** A manifest larger than this is not an image manifest. */
    private static final int MAX_MANIFEST = 4 * 1024 * 1024;
    private static final int MAX_REDIRECTS = 5;
    private static final Pattern CHALLENGE_PARAM = Pattern.compile("(\\w+)=\"([^\"]*)\"");
    private static final JsonMapper JSON = JsonMapper.builder().build();

    /** Who the user is at the registry; empty for anonymous pulls. */
    public record Credentials(String user, String secret) {
        public static final Credentials ANONYMOUS = new Credentials("", "");

        boolean anonymous() { return user.isEmpty() && secret.isEmpty(); }

        String basic() { return "Basic " + Base64.getEncoder().encodeToString((user + ":" + secret).getBytes(StandardCharsets.UTF_8)); }
    }

    /** The platform an index is resolved to. */
    public record Platform(String os, String architecture, String variant) {
        public static final Platform HOST = new Platform("linux", hostArchitecture(), "");

        static String hostArchitecture() {
            String arch = System.getProperty("os.arch");
            return switch (arch) {
                case "amd64", "x86_64" -> "amd64";
                case "aarch64", "arm64" -> "arm64";
                default -> arch;
            };
        }

        @Override public String toString() { return os + "/" + architecture + (variant.isEmpty() ? "" : "/" + variant); }

        /** OS/ARCH[/VARIANT], like linux/amd64 or linux/arm/v7. */
        public static Platform parse(String s) {
            if (s == null || !s.matches("[a-z0-9]{1,32}/[a-z0-9_]{1,32}(/[a-z0-9]{1,32})?")) {
                throw new IllegalArgumentException("a platform is OS/ARCH[/VARIANT], like linux/amd64, got '" + s + "'");
            }
            String[] p = s.split("/");
            return new Platform(p[0], p[1], p.length > 2 ? p[2] : "");
        }
    }

    private final HttpClient http;
    private final Credentials credentials;
    /** The Authorization header that worked for a registry and repository, reused until refused. */
    private final Map<String, String> authorizations = new ConcurrentHashMap<>();

    public RegistryClient(HttpClient http, Credentials credentials) {
        this.http = http;
        this.credentials = credentials;
    }

    public static RegistryClient create(Credentials credentials) {
        return new RegistryClient(HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(20))
                .followRedirects(HttpClient.Redirect.NEVER).build(), credentials);
    }

    /** The image's manifest for {@code platform}, resolving an index or manifest list. */
    public Manifest manifest(ImageReference ref, Platform platform) throws RegistryException, InterruptedException {
        Fetched top = fetchManifest(ref, ref.manifestReference());
        if (ref.digest().isPresent() && !top.digest.equals(ref.digest().get())) {
            throw new RegistryException(Kind.INVALID, "the registry answered " + ref + " with content of digest " + top.digest);
        }
        if (top.mediaType.equals(OCI_INDEX) || top.mediaType.equals(DOCKER_LIST)) {
            String chosen = pick(ref, top.json, platform);
            Fetched one = fetchManifest(ref, chosen);
            if (!one.digest.equals(chosen)) throw new RegistryException(Kind.INVALID, "manifest " + chosen + " came back with digest " + one.digest);
            return parseManifest(ref, one);
        }
        return parseManifest(ref, top);
    }

    private record Fetched(String mediaType, String digest, JsonNode json) {}

    private Fetched fetchManifest(ImageReference ref, String reference) throws RegistryException, InterruptedException {
        HttpResponse<InputStream> r = send(ref, "/manifests/" + reference, ACCEPT, null);
        byte[] body;
        try (InputStream in = r.body()) {
            body = in.readNBytes(MAX_MANIFEST + 1);
        } catch (IOException e) {
            throw new RegistryException(Kind.FAILED, "reading the manifest of " + ref + " failed: " + e.getMessage(), e);
        }
        if (body.length > MAX_MANIFEST) throw new RegistryException(Kind.INVALID, "the manifest of " + ref + " is larger than 4 MB");
        JsonNode json;
        try {
            json = JSON.readTree(body);
        } catch (JacksonException e) {
            throw new RegistryException(Kind.INVALID, "the manifest of " + ref + " is not JSON");
        }
        String type = json.path("mediaType").asString("");
        if (type.isEmpty()) type = r.headers().firstValue("Content-Type").orElse("").split(";")[0].strip();
        return new Fetched(type, "sha256:" + sha256(body), json);
    }

    private static String pick(ImageReference ref, JsonNode index, Platform platform) throws RegistryException {
        var offered = new ArrayList<String>();
        for (JsonNode m : index.path("manifests")) {
            JsonNode p = m.path("platform");
            String os = p.path("os").asString(""), arch = p.path("architecture").asString(""), variant = p.path("variant").asString("");
            offered.add(os + "/" + arch + (variant.isEmpty() ? "" : "/" + variant));
            if (os.equals(platform.os()) && arch.equals(platform.architecture())
                    && (platform.variant().isEmpty() || variant.equals(platform.variant()))) {
                return m.path("digest").asString("");
            }
        }
        throw new RegistryException(Kind.NOT_FOUND, ref + " has no image for " + platform + " (it has: "
                + (offered.isEmpty() ? "none" : String.join(", ", offered)) + "); choose one with --platform");
    }

    private static Manifest parseManifest(ImageReference ref, Fetched m) throws RegistryException {
        if (!m.mediaType.equals(OCI_MANIFEST) && !m.mediaType.equals(DOCKER_MANIFEST)) {
            throw new RegistryException(Kind.INVALID, ref + " is not a container image (its manifest is " + m.mediaType + ")");
        }
        try {
            Descriptor config = descriptor(m.json.path("config"));
            var layers = new ArrayList<Descriptor>();
            for (JsonNode l : m.json.path("layers")) layers.add(descriptor(l));
            if (layers.isEmpty()) throw new RegistryException(Kind.INVALID, ref + " has no layers");
            return new Manifest(m.mediaType, m.digest, config, layers);
        } catch (IllegalArgumentException e) {
            throw new RegistryException(Kind.INVALID, "the manifest of " + ref + " is malformed: " + e.getMessage());
        }
    }

    private static Descriptor descriptor(JsonNode d) {
        return new Descriptor(d.path("mediaType").asString(""), d.path("digest").asString(""), d.path("size").asLong(-1));
    }

    /**
     * Streams blob {@code d} into {@code target}, checking its digest; {@code progress} hears the bytes
     * done so far. A partial file left by an interrupted pull ({@code target} + ".part") is resumed where
     * the registry allows ranges. Nothing is left at {@code target} unless the digest matched, and a
     * part is kept only while it can still be the start of the blob (a download that broke off).
     */
    public void blob(ImageReference ref, Descriptor d, Path target, LongConsumer progress) throws RegistryException, InterruptedException {
        Path part = target.resolveSibling(target.getFileName() + ".part");
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            long have = Files.exists(part) ? Files.size(part) : 0;
            if (have > d.size()) {
                Files.delete(part);
                have = 0;
            }
            if (have > 0) {
                try (InputStream in = Files.newInputStream(part)) {
                    byte[] buf = new byte[1 << 16];
                    for (int n; (n = in.read(buf)) > 0; ) sha.update(buf, 0, n);
                }
            }
            if (have == d.size() && d.size() > 0) { // all there, only the rename was missed: asking for more gets a 416
                progress.accept(have);
                finish(ref, d, sha, part, target);
                return;
            }
            HttpResponse<InputStream> r = send(ref, "/blobs/" + d.digest(), "*/*", have > 0 ? "bytes=" + have + "-" : null);
            boolean resumed = r.statusCode() == 206;
            if (resumed && !r.headers().firstValue("Content-Range").orElse("").startsWith("bytes " + have + "-")) {
                close(r);
                Files.delete(part);
                throw new RegistryException(Kind.FAILED, "registry " + ref.registry() + " answered a range of blob " + d.digest() + " that was not asked for ("
                        + r.headers().firstValue("Content-Range").orElse("none") + "); pulling again starts it over");
            }
            if (have > 0 && !resumed) { // the registry sent the whole blob: start again
                sha.reset();
                have = 0;
            }
            progress.accept(have);
            long done = have;
            try (InputStream in = r.body(); OutputStream out = Files.newOutputStream(part, StandardOpenOption.CREATE,
                    resumed ? StandardOpenOption.APPEND : StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE)) {
                byte[] buf = new byte[1 << 16];
                while (true) {
                    int n;
                    try {
                        n = in.read(buf);
                    } catch (IOException e) { // the connection, not the disk: what arrived is kept for a resume
                        throw brokeOff(ref, d, done, e);
                    }
                    if (n < 0) break;
                    if (done + n > d.size()) {
                        out.close();
                        Files.delete(part);
                        throw new RegistryException(Kind.INVALID, "blob " + d.digest() + " of " + ref + " is larger than its " + d.size()
                                + " bytes; refused");
                    }
                    done += n;
                    sha.update(buf, 0, n);
                    out.write(buf, 0, n);
                    progress.accept(done);
                }
            }
            if (done < d.size()) throw brokeOff(ref, d, done, null);
            finish(ref, d, sha, part, target);
        } catch (IOException e) {
            throw new RegistryException(Kind.FAILED, "storing blob " + d.digest() + " of " + ref + " failed: " + e.getMessage(), e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Moves a complete part to {@code target} if its digest is right, else deletes it: it cannot be resumed. */
    private static void finish(ImageReference ref, Descriptor d, MessageDigest sha, Path part, Path target) throws IOException, RegistryException {
        String got = "sha256:" + HexFormat.of().formatHex(sha.digest());
        if (!got.equals(d.digest())) {
            Files.deleteIfExists(part);
            throw new RegistryException(Kind.INVALID, "blob " + d.digest() + " of " + ref + " arrived with digest " + got + "; refused");
        }
        Files.move(part, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    private static RegistryException brokeOff(ImageReference ref, Descriptor d, long done, IOException cause) {
        return new RegistryException(Kind.FAILED, "the download of blob " + d.digest() + " from " + ref.registry() + " broke off after "
                + done + " of " + d.size() + " bytes; pulling again resumes it", cause);
    }

    /** One GET on the repository, authenticating when the registry asks, following redirects without credentials. */
    private HttpResponse<InputStream> send(ImageReference ref, String path, String accept, String range)
            throws RegistryException, InterruptedException {
        String key = ref.registry() + "/" + ref.repository();
        URI uri = URI.create(base(ref.registry()) + "/v2/" + ref.repository() + path);
        String auth = authorizations.get(key);
        for (int attempt = 0; ; attempt++) {
            HttpResponse<InputStream> r = get(uri, accept, range, auth);
            for (int hops = 0; isRedirect(r.statusCode()) && hops < MAX_REDIRECTS; hops++) {
                URI next = uri.resolve(r.headers().firstValue("Location").orElseThrow(() ->
                        new RegistryException(Kind.INVALID, "a redirect without a Location from " + ref.registry())));
                close(r);
                r = get(next, accept, range, null); // storage back ends sign their own URLs: the registry's credentials stay home
            }
            int status = r.statusCode();
            if (status == 200 || status == 206) {
                if (auth != null) authorizations.put(key, auth);
                return r;
            }
            String challenge = r.headers().firstValue("WWW-Authenticate").orElse("");
            close(r);
            if (status == 401 && attempt == 0) {
                auth = authorize(ref, challenge);
                continue;
            }
            throw switch (status) {
                case 401, 403 -> credentials.anonymous() ? authenticationRequired(ref) : refused(ref, status);
                case 404 -> path.startsWith("/blobs/")
                        ? new RegistryException(Kind.NOT_FOUND, "registry " + ref.registry() + " has no blob "
                                + path.substring("/blobs/".length()) + ", though the manifest of " + ref + " lists it")
                        : new RegistryException(Kind.NOT_FOUND, ref + " was not found at " + ref.registry() + " (check the repository and tag)");
                default -> new RegistryException(Kind.FAILED, "registry " + ref.registry() + " answered " + status + " for " + path);
            };
        }
    }

    private static boolean isRedirect(int status) { return status == 301 || status == 302 || status == 303 || status == 307 || status == 308; }

    private HttpResponse<InputStream> get(URI uri, String accept, String range, String auth) throws RegistryException, InterruptedException {
        var b = HttpRequest.newBuilder(uri).timeout(Duration.ofMinutes(10)).header("Accept", accept).GET();
        if (range != null) b.header("Range", range);
        if (auth != null) b.header("Authorization", auth);
        try {
            return http.send(b.build(), HttpResponse.BodyHandlers.ofInputStream());
        } catch (IOException e) {
            throw new RegistryException(Kind.FAILED, "cannot reach " + uri.getHost() + ": " + e.getMessage(), e);
        }
    }

    private static RegistryException authenticationRequired(ImageReference ref) {
        return new RegistryException(Kind.UNAUTHORIZED, "registry " + ref.registry() + " requires authentication for " + ref.repository()
                + ": give credentials with --auth USER:TOKEN");
    }

    private static RegistryException refused(ImageReference ref, int status) {
        return new RegistryException(Kind.UNAUTHORIZED, "registry " + ref.registry() + " refused the credentials (" + status + ") for "
                + ref.repository() + ": check --auth USER:TOKEN");
    }

    /** The Authorization header a 401's challenge asks for: basic credentials, or a bearer token from its realm. */
    private String authorize(ImageReference ref, String challenge) throws RegistryException, InterruptedException {
        if (challenge.regionMatches(true, 0, "Basic", 0, 5)) {
            if (credentials.anonymous()) throw authenticationRequired(ref);
            return credentials.basic();
        }
        if (!challenge.regionMatches(true, 0, "Bearer", 0, 6)) {
            throw new RegistryException(Kind.UNAUTHORIZED, "registry " + ref.registry() + " asks for an authentication it does not name ("
                    + challenge + ")");
        }
        Map<String, String> params = new LinkedHashMap<>();
        Matcher m = CHALLENGE_PARAM.matcher(challenge);
        while (m.find()) params.put(m.group(1).toLowerCase(Locale.ROOT), m.group(2));
        URI realm;
        try {
            realm = new URI(params.getOrDefault("realm", ""));
        } catch (URISyntaxException e) {
            realm = URI.create("");
        }
        if (realm.getHost() == null || !("https".equals(realm.getScheme()) || "http".equals(realm.getScheme()))) {
            throw new RegistryException(Kind.INVALID, "registry " + ref.registry() + " sent a token challenge without a usable realm");
        }
        // a password crosses plain HTTP only to loopback, as the registry itself does
        if (!credentials.anonymous() && realm.getScheme().equals("http") && !loopback(realm.getAuthority())) {
            throw new RegistryException(Kind.INVALID, "registry " + ref.registry() + " wants the credentials sent to " + realm
                    + " over plain HTTP; refused");
        }
        var query = new StringBuilder();
        if (params.containsKey("service")) query.append("service=").append(URLEncoder.encode(params.get("service"), StandardCharsets.UTF_8));
        String scope = params.getOrDefault("scope", "repository:" + ref.repository() + ":pull");
        query.append(query.isEmpty() ? "" : "&").append("scope=").append(URLEncoder.encode(scope, StandardCharsets.UTF_8));
        String url = realm + (realm.getRawQuery() == null ? "?" : "&") + query;
        var b = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(30)).GET();
        if (!credentials.anonymous()) b.header("Authorization", credentials.basic());
        HttpResponse<byte[]> r;
        try {
            r = http.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
        } catch (IOException e) {
            throw new RegistryException(Kind.FAILED, "cannot reach " + realm.getAuthority() + ", the token service of registry " + ref.registry()
                    + ": " + e.getMessage(), e);
        }
        if (r.statusCode() == 401 || r.statusCode() == 403) {
            throw credentials.anonymous() ? authenticationRequired(ref) : refused(ref, r.statusCode());
        }
        if (r.statusCode() != 200) {
            throw new RegistryException(Kind.FAILED, "the token service of registry " + ref.registry() + " answered " + r.statusCode());
        }
        try {
            JsonNode token = JSON.readTree(r.body());
            String t = token.path("token").asString(token.path("access_token").asString(""));
            if (t.isEmpty()) throw new RegistryException(Kind.INVALID, "the token service of registry " + ref.registry() + " sent no token");
            return "Bearer " + t;
        } catch (JacksonException e) {
            throw new RegistryException(Kind.INVALID, "the token service of registry " + ref.registry() + " sent no JSON");
        }
    }

    /** Plain HTTP for registries on loopback (tests, a local mirror), HTTPS for all others. */
    static String base(String registry) {
        return (loopback(registry) ? "http://" : "https://") + registry;
    }

    /** Whether {@code hostAndPort} names this machine. */
    private static boolean loopback(String hostAndPort) {
        String host = hostAndPort.replaceFirst(":[0-9]+$", "");
        return host.equals("localhost") || host.startsWith("127.") || host.equals("[::1]");
    }

    private static void close(HttpResponse<InputStream> r) {
        try {
            r.body().close();
        } catch (IOException ignored) {
            // nothing more is read from it
        }
    }

    static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The image's config blob as JSON (its env, working directory, user, entrypoint, command). */
    public JsonNode config(ImageReference ref, Manifest m, Path cacheFile) throws RegistryException, InterruptedException {
        if (!Files.exists(cacheFile)) blob(ref, m.config(), cacheFile, done -> { });
        try {
            return JSON.readTree(Files.readAllBytes(cacheFile));
        } catch (IOException | JacksonException e) {
            throw new RegistryException(Kind.INVALID, "the config of " + ref + " is not JSON");
        }
    }

    List<String> acceptedMediaTypes() { return List.of(OCI_INDEX, OCI_MANIFEST, DOCKER_LIST, DOCKER_MANIFEST); }

    Optional<String> cachedAuthorization(ImageReference ref) { return Optional.ofNullable(authorizations.get(ref.registry() + "/" + ref.repository())); }
}
