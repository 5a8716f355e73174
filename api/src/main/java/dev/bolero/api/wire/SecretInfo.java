package dev.bolero.api.wire;

import java.time.Instant;

/**
 * A secret as the API shows it: never its value.
 *
 * @param name its name in the namespace
 * @param version 1 when created, one more at each update
 * @param digest {@code hmac-sha256:HEX} of the value, keyed by the namespace's data key: equal values show equal
 *     digests within the namespace, and a digest cannot be checked against a guess without the key
 */
public record SecretInfo(String name, long version, String digest, Instant createdAt, Instant updatedAt) {}
