package dev.bolero.api.wire;

import java.time.Instant;

/**
 * A namespace token as lists show it: never the token.
 *
 * @param expiresAt when it stops working; null: never
 * @param description what it is for, as its minter said; may be null
 */
public record TokenInfo(String id, TokenRole role, String description, Instant createdAt, Instant expiresAt) {}
