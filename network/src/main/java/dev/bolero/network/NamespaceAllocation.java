package dev.bolero.network;

import java.util.Objects;

/**
 * A namespace's share of the node's network, as persisted.
 *
 * @param namespace the namespace (tenant) name
 * @param index the subnet's position in the pool; names the bridge
 * @param subnet the namespace's subnet, e.g. {@code 10.210.3.0/24}; its first address is the gateway
 * @param bridge the bridge device, {@code <prefix>br<index>}
 */
public record NamespaceAllocation(String namespace, int index, String subnet, String bridge) {
    public NamespaceAllocation {
        Objects.requireNonNull(namespace, "namespace");
        Objects.requireNonNull(subnet, "subnet");
        Objects.requireNonNull(bridge, "bridge");
        if (index < 0) throw new IllegalArgumentException("index must not be negative, got " + index);
    }
}
