package dev.bolero.api.wire;

import java.util.List;

/**
 * Another member of the private network, as a node's assignments and a gateway's membership list it: a WireGuard peer
 * to have. A member is a node or (in a node's assignments only) a gateway ({@link GatewayMembership}).
 *
 * @param nodeId the peer node's id, or the gateway's registration id
 * @param publicKey its WireGuard public key
 * @param endpoint where its link listens, {@code IPv4:port}
 * @param allowedIps the private addresses it hosts (its node block, e.g. {@code 10.4.0.0/14}): routed to it, and
 *     accepted from it only; a gateway's is its address's {@code /32}
 */
public record NodePeer(String nodeId, String publicKey, String endpoint, List<String> allowedIps) {
    public NodePeer {
        allowedIps = List.copyOf(allowedIps);
    }
}
