package dev.bolero.network;

import java.util.Objects;

/**
 * A node's part in the cluster's private network, as {@link NodeNetwork} needs it: namespace subnets come from the
 * address plan at this node's index, and the rules admit traffic through the WireGuard link only within a namespace.
 *
 * @param addressing the cluster's address plan (the same on every node)
 * @param nodeIndex this node's index in the plan, given by the control plane when the node joined
 * @param link the name of the node's WireGuard interface ({@link WireGuardLinkConfig#name()})
 * @param dnsPort the port of the node's internal DNS server ({@link InternalDns}); guests may reach it on their
 *     gateway address, over UDP and TCP
 */
public record PrivateNetwork(PrivateAddressing addressing, int nodeIndex, String link, int dnsPort) {
    public PrivateNetwork {
        Objects.requireNonNull(addressing, "addressing");
        if (nodeIndex < 0 || nodeIndex >= addressing.nodes()) {
            throw new IllegalArgumentException("node index " + nodeIndex + " outside [0, " + addressing.nodes() + ")");
        }
        WireGuardLinkConfig.requireName(link);
        if (dnsPort < 1 || dnsPort > 65535) throw new IllegalArgumentException("DNS port out of range: " + dnsPort);
    }
}
