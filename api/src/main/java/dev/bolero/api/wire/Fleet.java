package dev.bolero.api.wire;

import java.time.Instant;
import java.util.Map;

/** A fleet: a named group of a namespace's machines sharing placement defaults. */
public record Fleet(String namespace, String name, FleetStrategy strategy, String region,
                    Map<String, String> nodeLabels, Instant createdAt, Instant updatedAt) {
    public Fleet {
        nodeLabels = Map.copyOf(nodeLabels);
    }
}
