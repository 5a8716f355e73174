package dev.bolero.server.wire;

import java.time.Instant;

/** A namespace (tenant). */
public record Namespace(String name, Instant createdAt) {}
