package dev.bolero.api.wire;

import java.time.Instant;

/** A namespace (tenant). */
public record Namespace(String name, Instant createdAt) {}
