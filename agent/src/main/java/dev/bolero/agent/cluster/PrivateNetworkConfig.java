package dev.bolero.agent.cluster;

import dev.bolero.api.wire.NodeLink;
import dev.bolero.network.WireGuardLinkConfig;
import java.net.InetSocketAddress;
import java.util.Objects;

/**
 * How an agent takes part in the cluster's private network ({@code docs/private-network.md}).
 *
 * @param endpoint where the other nodes reach this node's WireGuard link, {@code IPv4:port}
 *     ({@code --private-network-endpoint}); sent to the control plane in the join and every heartbeat
 * @param listenPort the UDP port the link listens on; the endpoint's port unless a NAT maps it
 * @param link the WireGuard interface's name, unique on the host ({@code wireguard-go}'s control socket is shared by
 *     all network namespaces)
 * @param dns where the node's internal DNS listens; guests ask their gateway on this port, so it is 53 on a node
 * @throws IllegalArgumentException if a value is malformed ({@link dev.bolero.api.ApiException} for the endpoint)
 */
public record PrivateNetworkConfig(String endpoint, int listenPort, String link, InetSocketAddress dns) {
    /** The default interface name. */
    public static final String DEFAULT_LINK = "blwg0";

    public PrivateNetworkConfig {
        NodeLink.endpointPort(endpoint);
        if (listenPort < 1 || listenPort > 65535) {
            throw new IllegalArgumentException("private network listen port out of range: " + listenPort);
        }
        WireGuardLinkConfig.requireName(link);
        Objects.requireNonNull(dns, "dns");
    }

    /** Listens on the endpoint's port with link {@value #DEFAULT_LINK}; the internal DNS on {@code 0.0.0.0:53}. */
    public static PrivateNetworkConfig of(String endpoint) {
        return new PrivateNetworkConfig(endpoint, NodeLink.endpointPort(endpoint), DEFAULT_LINK,
                new InetSocketAddress("0.0.0.0", 53));
    }

    /** This config with the link named {@code link}. */
    public PrivateNetworkConfig withLink(String link) {
        return new PrivateNetworkConfig(endpoint, listenPort, link, dns);
    }
}
