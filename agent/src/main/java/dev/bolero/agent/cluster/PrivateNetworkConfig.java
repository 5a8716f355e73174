package dev.bolero.agent.cluster;

import dev.bolero.api.wire.NodeLink;
import dev.bolero.network.WireGuardLinkConfig;

/**
 * How an agent takes part in the cluster's private network ({@code docs/private-network.md}).
 *
 * @param endpoint where the other nodes reach this node's WireGuard link, {@code IPv4:port}
 *     ({@code --private-network-endpoint}); sent to the control plane in the join and every heartbeat
 * @param listenPort the UDP port the link listens on; the endpoint's port unless a NAT maps it
 * @param link the WireGuard interface's name, unique on the host ({@code wireguard-go}'s control socket is shared by
 *     all network namespaces)
 * @param dnsPort the port of the node's internal DNS, UDP and TCP, on each namespace bridge's gateway address (never
 *     on the wildcard address; see {@link dev.bolero.network.InternalDns}); guests ask their gateway on this port, so
 *     it is 53 on a node
 * @throws IllegalArgumentException if a value is malformed ({@link dev.bolero.api.ApiException} for the endpoint)
 */
public record PrivateNetworkConfig(String endpoint, int listenPort, String link, int dnsPort) {
    /** The default interface name. */
    public static final String DEFAULT_LINK = "blwg0";

    public PrivateNetworkConfig {
        NodeLink.endpointPort(endpoint);
        if (listenPort < 1 || listenPort > 65535) {
            throw new IllegalArgumentException("private network listen port out of range: " + listenPort);
        }
        WireGuardLinkConfig.requireName(link);
        if (dnsPort < 1 || dnsPort > 65535) throw new IllegalArgumentException("internal DNS port out of range: " + dnsPort);
    }

    /** Listens on the endpoint's port with link {@value #DEFAULT_LINK}; the internal DNS on port 53 of each gateway. */
    public static PrivateNetworkConfig of(String endpoint) {
        return new PrivateNetworkConfig(endpoint, NodeLink.endpointPort(endpoint), DEFAULT_LINK, 53);
    }

    /** This config with the link named {@code link}. */
    public PrivateNetworkConfig withLink(String link) {
        return new PrivateNetworkConfig(endpoint, listenPort, link, dnsPort);
    }
}
