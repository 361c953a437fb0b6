package dev.bhatti.server.sandbox;

import dev.bhatti.server.error.DomainException;
import dev.bhatti.server.secrets.SecretService;
import dev.bhatti.server.store.Store;
import dev.bhatti.server.store.TemplateRecord;
import dev.bhatti.server.store.UserRecord;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.PropertyNamingStrategies;
import tools.jackson.databind.json.JsonMapper;

import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Templates: a user's saved create requests. A create that names one starts from it; the request's own fields
 * replace the template's, except {@code env} and {@code labels}, which are merged key by key (the request's
 * value wins). The image and secrets a template names must exist when it is saved and when it is used (404).
 */
public final class Templates {
    private final Store store;
    private final ImageLookup images;
    private final Supplier<List<String>> tiers;
    private final SecretService secrets;
    /** How a spec is stored: the create body's own JSON (snake_case), so the row reads as the request did. */
    private static final ObjectMapper json = JsonMapper.builder().propertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE).build();

    Templates(Store store, ImageLookup images, Supplier<List<String>> tiers, SecretService secrets) {
        this.store = store;
        this.images = images;
        this.tiers = tiers;
        this.secrets = secrets;
    }

    /** A template as stored and shown. */
    public record Template(String name, SandboxService.CreateRequest spec, Instant createdAt) {}

    public Template create(UserRecord user, String name, SandboxService.CreateRequest spec) {
        if (name == null) throw DomainException.invalid("name is required");
        Limits.name(name);
        if (spec.name() != null || spec.template() != null) throw DomainException.invalid("a template holds no sandbox name and no template");
        check(spec);
        Labels.of(spec.labels());
        if (spec.diskSizeMb() != null) Limits.diskMb(spec.diskSizeMb());
        requireExisting(user, spec);
        var record = new TemplateRecord(user.id(), name, json.writeValueAsString(spec), Instant.now().truncatedTo(ChronoUnit.MILLIS));
        if (!store.insertTemplate(record)) throw DomainException.conflict("a template named " + name + " exists already; delete it first");
        return view(record);
    }

    public List<Template> list(UserRecord user) {
        return store.templates(user.id()).stream().map(this::view).toList();
    }

    public Template get(UserRecord user, String name) {
        return store.template(user.id(), name).map(this::view)
                .orElseThrow(() -> DomainException.notFound("template not found: " + Limits.printable(name)));
    }

    public void delete(UserRecord user, String name) {
        if (!store.deleteTemplate(user.id(), name)) throw DomainException.notFound("template not found: " + Limits.printable(name));
    }

    /** The request with its template's fields under it; the request unchanged if it names none. */
    SandboxService.CreateRequest apply(UserRecord user, SandboxService.CreateRequest req) {
        if (req.template() == null) return req;
        var t = get(user, req.template()).spec();
        // what the template itself brings must still exist: its image, if the request keeps it, and its secrets
        requireExisting(user, new SandboxService.CreateRequest(null, null, null, req.image() == null ? t.image() : null, null, null, null, null,
                req.secrets() == null ? t.secrets() : null, null, null, null, null, null, null, null));
        return merge(t, req);
    }

    /** {@code req} over {@code t}: a field the request gives replaces the template's; env and labels merge by key. */
    static SandboxService.CreateRequest merge(SandboxService.CreateRequest t, SandboxService.CreateRequest req) {
        return new SandboxService.CreateRequest(req.name(), or(req.cpus(), t.cpus()), or(req.memoryMb(), t.memoryMb()), or(req.image(), t.image()),
                merged(t.env(), req.env()), or(req.files(), t.files()), or(req.init(), t.init()), or(req.keepHot(), t.keepHot()),
                or(req.secrets(), t.secrets()), or(req.egress(), t.egress()), or(req.allowHosts(), t.allowHosts()),
                or(req.runEntrypoint(), t.runEntrypoint()), or(req.diskSizeMb(), t.diskSizeMb()), or(req.volumes(), t.volumes()),
                merged(t.labels(), req.labels()), null);
    }

    private static <T> T or(T first, T second) { return first != null ? first : second; }

    private static Map<String, String> merged(Map<String, String> under, Map<String, String> over) {
        if (under == null) return over;
        if (over == null) return under;
        var m = new LinkedHashMap<>(under);
        m.putAll(over);
        return m;
    }

    /** What can be checked without the user's limits (those are checked at create, as for any create). */
    private static void check(SandboxService.CreateRequest spec) {
        if (spec.secrets() != null && spec.secrets().stream().anyMatch(java.util.Objects::isNull)) throw DomainException.invalid("secrets must be a list of names, without null");
        if (spec.cpus() != null && (spec.cpus() != Math.rint(spec.cpus()) || spec.cpus() < 1)) {
            throw DomainException.invalid("cpus must be a whole number from 1, got " + spec.cpus());
        }
        if (spec.memoryMb() != null && spec.memoryMb() < Limits.MIN_MEMORY_MB) {
            throw DomainException.invalid("memory_mb must be at least " + Limits.MIN_MEMORY_MB + ", got " + spec.memoryMb());
        }
    }

    /** 404 for an image or a secret the spec names that the user does not have. */
    private void requireExisting(UserRecord user, SandboxService.CreateRequest spec) {
        String image = spec.image();
        if (image != null && images.find(user, image).isEmpty() && !tiers.get().contains(image)) {
            throw DomainException.notFound("image not found: " + Limits.printable(image)
                    + " (a tier: bhatti tier list; your images: bhatti image list)");
        }
        if (spec.secrets() != null) spec.secrets().forEach(n -> secrets.get(user, n));
    }

    private Template view(TemplateRecord r) {
        return new Template(r.name(), json.readValue(r.spec(), SandboxService.CreateRequest.class), r.createdAt());
    }
}
