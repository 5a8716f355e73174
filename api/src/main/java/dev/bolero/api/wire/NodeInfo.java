package dev.bolero.api.wire;

import dev.bolero.core.Driver;
import dev.bolero.core.NodeState;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * A node as {@code GET /v1/nodes} shows it.
 *
 * @param state {@code ready}, {@code down}, {@code cordoned} or {@code draining}; {@code down} wins over the others
 * @param allocated what the machines assigned to it ask for
 * @param machines how many machines are assigned to it
 * @param privateNetwork its end of the private network as it last reported it (key, endpoint, and which WireGuard
 *     carries its link); null when it takes no part in it
 */
public record NodeInfo(String id, String name, NodeState state, Map<String, String> labels, List<Driver> drivers,
                       Capacity capacity, Capacity allocated, int machines, Instant heartbeatAt, Instant joinedAt,
                       NodeLink privateNetwork) {
    public NodeInfo {
        labels = Map.copyOf(labels);
        drivers = List.copyOf(drivers);
    }
}
