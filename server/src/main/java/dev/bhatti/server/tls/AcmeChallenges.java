package dev.bhatti.server.tls;

import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/** The http-01 challenges in progress: token to key authorization, served at /.well-known/acme-challenge/TOKEN. */
public final class AcmeChallenges {
    public static final String PATH = "/.well-known/acme-challenge/";
    private final Map<String, String> byToken = new ConcurrentHashMap<>();

    void put(String token, String keyAuthorization) { byToken.put(token, keyAuthorization); }

    void remove(String token) { byToken.remove(token); }

    /** The answer for a request path, if it asks for a challenge in progress. */
    public Optional<String> answer(String path) {
        if (path == null || !path.startsWith(PATH)) return Optional.empty();
        return Optional.ofNullable(byToken.get(path.substring(PATH.length())));
    }
}
