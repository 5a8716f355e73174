package dev.bolero.api.wire;

import java.util.List;

/**
 * Another node of the private network, as a node's assignments list it: a WireGuard peer to have.
 *
 * @param nodeId the peer node's id
 * @param publicKey its WireGuard public key
 * @param endpoint where its link listens, {@code IPv4:port}
 * @param allowedIps the private addresses it hosts (its node block, e.g. {@code 10.4.0.0/14}): routed to it, and
 *     accepted from it only
 */
public record NodePeer(String nodeId, String publicKey, String endpoint, List<String> allowedIps) {
    public NodePeer {
        allowedIps = List.copyOf(allowedIps);
    }
}
