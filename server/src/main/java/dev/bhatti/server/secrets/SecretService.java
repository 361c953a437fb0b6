package dev.bhatti.server.secrets;

import dev.bhatti.server.error.DomainException;
import dev.bhatti.server.quota.Quotas;
import dev.bhatti.server.sandbox.Limits;
import dev.bhatti.server.store.SecretRecord;
import dev.bhatti.server.store.Store;
import dev.bhatti.server.store.UserRecord;

import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import java.nio.charset.StandardCharsets;

/**
 * A user's secrets: named values that sandboxes created with them see as environment variables.
 * Values are encrypted before they reach the store and are never returned by the API.
 */
public final class SecretService {
    /** Secret names become environment variable names. */
    public static final Pattern NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]{0,127}");
    public static final int MAX_VALUE_BYTES = 64 * 1024;

    private final Store store;
    private final SecretBox box;
    private final Quotas quotas;

    public SecretService(Store store, SecretBox box) {
        this.store = store;
        this.box = box;
        this.quotas = new Quotas(store);
    }

    /** Sets a secret; true if it is new. */
    public boolean set(UserRecord user, String name, String value) {
        checkName(name);
        if (value == null) throw DomainException.invalid("value is required");
        if (value.indexOf('\0') >= 0) throw DomainException.invalid("a secret value cannot hold NUL bytes");
        if (value.getBytes(StandardCharsets.UTF_8).length > MAX_VALUE_BYTES) {
            throw DomainException.invalid("a secret value is at most " + MAX_VALUE_BYTES / 1024 + " KB");
        }
        quotas.admitSecret(user, name);
        return store.putSecret(user.id(), name, box.encrypt(value), Instant.now().truncatedTo(ChronoUnit.MILLIS));
    }

    public List<SecretRecord> list(UserRecord user) { return store.secrets(user.id()); }

    public SecretRecord get(UserRecord user, String name) {
        return store.secrets(user.id()).stream().filter(s -> s.name().equals(name)).findFirst()
                .orElseThrow(() -> notFound(name));
    }

    public void delete(UserRecord user, String name) {
        if (!store.deleteSecret(user.id(), name)) throw notFound(name);
    }

    /** The named secrets' values, for a sandbox about to get them; an unknown name is a 400 before anything boots. */
    public Map<String, String> values(UserRecord user, List<String> names) {
        var out = new LinkedHashMap<String, String>();
        for (String name : names) {
            if (name == null) throw DomainException.invalid("secret names must be strings");
            byte[] sealed = store.secretCiphertext(user.id(), name).orElseThrow(() -> DomainException.invalid(
                    "unknown secret '" + Limits.printable(name) + "'; set it first with: bhatti secret set " + Limits.printable(name)));
            out.put(name, box.decrypt(sealed));
        }
        return out;
    }

    /** Like {@link #values} for the names that still exist (deleted since are left out): for a sandbox booted again. */
    public Map<String, String> remainingValues(UserRecord user, List<String> names) {
        var out = new LinkedHashMap<String, String>();
        for (String name : names) store.secretCiphertext(user.id(), name).ifPresent(sealed -> out.put(name, box.decrypt(sealed)));
        return out;
    }

    private static void checkName(String name) {
        if (name == null || !NAME.matcher(name).matches()) {
            throw DomainException.invalid("invalid secret name '" + Limits.printableKey(name)
                    + "': it becomes an environment variable, so use letters, digits and '_', not starting with a digit");
        }
    }

    private static DomainException notFound(String name) {
        return DomainException.notFound("secret not found: " + Limits.printableKey(name));
    }
}
