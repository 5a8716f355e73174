package dev.bolero.api.wire;

import java.time.Instant;

/**
 * A fleet moving from one release to another, driven by the control plane's reconciler (it survives the client and
 * the server replica that started it).
 *
 * @param fromVersion the release the fleet had when it started
 * @param toVersion the release it deploys
 * @param message what it last did or why it rolled back or failed; null while nothing went wrong
 */
public record Deployment(String id, String namespace, String fleet, long fromVersion, long toVersion,
                         DeployPolicy policy, DeployStatus status, String message, Instant createdAt,
                         Instant updatedAt) {}
