package dev.bolero.api.wire;

import java.time.Instant;

/**
 * A new API token, shown once: the server keeps only its SHA-256.
 *
 * @param id what lists, the audit log and revocation call it
 * @param expiresAt when it stops working; null: never
 */
public record TokenResponse(String token, String id, TokenRole role, Instant expiresAt) {}
