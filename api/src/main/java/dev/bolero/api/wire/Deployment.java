package dev.bolero.api.wire;

import java.time.Instant;
import java.util.List;

/**
 * A fleet moving from one release to another, driven by the control plane's reconciler (it survives the client and
 * the server replica that started it).
 *
 * @param fromVersion the release the fleet had when it started
 * @param toVersion the release it deploys
 * @param message what it last did or why it rolled back or failed; null while nothing went wrong
 * @param steps what it did, oldest first: started, machines created, replaced, removed and healthy, rollback, end
 */
public record Deployment(String id, String namespace, String fleet, long fromVersion, long toVersion,
                         DeployPolicy policy, DeployStatus status, String message, Instant createdAt,
                         Instant updatedAt, List<DeployStep> steps) {
    public Deployment {
        steps = steps == null ? List.of() : List.copyOf(steps);
    }
}
