package dev.bolero.server.store;

import dev.bolero.api.wire.Capacity;
import dev.bolero.core.Driver;
import dev.bolero.core.NodeState;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A node's row.
 *
 * @param health {@link NodeState#READY} or {@link NodeState#DOWN}, from heartbeats
 * @param adminState {@link NodeState#READY}, {@link NodeState#CORDONED} or {@link NodeState#DRAINING}, set by operators
 * @param drivers the VMMs it reported it can run
 * @param assignIndex the state index of the last change to the node's assignments
 */
public record NodeRow(String id, String name, NodeState health, NodeState adminState, Map<String, String> labels,
                      List<Driver> drivers, Capacity capacity, Instant heartbeatAt, long assignIndex,
                      Instant joinedAt) {
    public NodeRow {
        if (health != NodeState.READY && health != NodeState.DOWN) {
            throw new IllegalArgumentException("node " + id + ": health must be ready or down, got " + health);
        }
        if (adminState == NodeState.DOWN || adminState == null) {
            throw new IllegalArgumentException("node " + id + ": administrative state " + adminState);
        }
        labels = Map.copyOf(labels);
        drivers = List.copyOf(drivers);
        Objects.requireNonNull(capacity, "capacity");
    }

    /** A node that has just joined: ready, its heartbeat now. */
    public static NodeRow joined(String id, String name, Map<String, String> labels, List<Driver> drivers,
                                 Capacity capacity, long assignIndex, Instant now) {
        return new NodeRow(id, name, NodeState.READY, NodeState.READY, labels, drivers, capacity, now, assignIndex,
                now);
    }

    /** Whether it missed its heartbeats. */
    public boolean down() {
        return health == NodeState.DOWN;
    }

    /** The state the scheduler and the API see: down wins over the administrative state. */
    public NodeState state() {
        return down() ? NodeState.DOWN : adminState;
    }
}
