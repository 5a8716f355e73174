package dev.bolero.gateway;

import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The ACME HTTP-01 challenges being validated now: the gateway answers
 * {@code GET /.well-known/acme-challenge/<token>} on its HTTP listener, for any host, with the token's key
 * authorization, before routing. Thread-safe.
 */
public final class Http01Challenges {
    /** The path prefix of a challenge request. */
    public static final String PREFIX = "/.well-known/acme-challenge/";

    private final Map<String, String> answers = new ConcurrentHashMap<>();

    /** Answers {@code token} with {@code keyAuthorization} until {@link #remove}. */
    public void put(String token, String keyAuthorization) {
        answers.put(token, keyAuthorization);
    }

    public void remove(String token) {
        answers.remove(token);
    }

    /** The key authorization for a request's path, when it is a challenge being validated. */
    Optional<String> answer(String path) {
        if (path == null || !path.startsWith(PREFIX)) return Optional.empty();
        return Optional.ofNullable(answers.get(path.substring(PREFIX.length())));
    }
}
