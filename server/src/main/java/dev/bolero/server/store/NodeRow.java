package dev.bolero.server.store;

import dev.bolero.scheduler.NodeState;
import dev.bolero.api.wire.Capacity;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * A node's row.
 *
 * @param health {@code ready} or {@code down}, from heartbeats
 * @param adminState {@code ready}, {@code cordoned} or {@code draining}, set by operators
 * @param assignIndex the state index of the last change to the node's assignments
 */
public record NodeRow(String id, String name, String health, String adminState, Map<String, String> labels,
                      List<String> drivers, Capacity capacity, Instant heartbeatAt, long assignIndex,
                      Instant joinedAt) {
    public NodeRow {
        labels = Map.copyOf(labels);
        drivers = List.copyOf(drivers);
    }

    /** The state the scheduler and the API see: down wins over the administrative state. */
    public NodeState state() {
        if (health.equals("down")) return NodeState.DOWN;
        return switch (adminState) {
            case "cordoned" -> NodeState.CORDONED;
            case "draining" -> NodeState.DRAINING;
            default -> NodeState.READY;
        };
    }
}
