package dev.bolero.server.store;

import dev.bolero.api.wire.TokenRole;
import java.time.Instant;
import java.util.Optional;

/**
 * A stored credential, found by the hash of the bearer token.
 *
 * @param namespace the namespace of a {@code namespace} token, else null
 * @param nodeId the node of a {@code node} credential, else null
 * @param role the role of a {@code namespace} token, else null
 * @param expiresAt when it stops working; empty: never
 */
public record TokenRow(String id, TokenScope scope, String namespace, String nodeId, TokenRole role,
        Optional<Instant> expiresAt) {
    /** Whether it no longer works at {@code now}. */
    public boolean expired(Instant now) {
        return expiresAt.isPresent() && !now.isBefore(expiresAt.get());
    }
}
