package dev.bolero.server.cluster;

import dev.bolero.api.wire.NodePeer;
import dev.bolero.network.PrivateAddressing;
import dev.bolero.server.store.GatewayPeerStore;
import dev.bolero.server.store.PrivateNetworkStore;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Optional;

/**
 * Who peers with whom in the private network's WireGuard mesh: a pure function of the members and the registered
 * gateways. Nodes peer with every other node that is not down (allowed IPs: its node block) and with every gateway
 * whose lease has not ended (allowed IPs: its address's {@code /32}); a gateway peers with every node that is not down,
 * never with another gateway.
 */
final class MeshPeers {
    private MeshPeers() {}

    /** The peers of node {@code nodeId} at {@code now}: the other live nodes, then the live gateways. */
    static List<NodePeer> ofNode(PrivateAddressing plan, String nodeId, Collection<PrivateNetworkStore.Member> members,
                                 Collection<GatewayPeerStore.Row> gateways, Instant now) {
        var peers = new ArrayList<>(nodes(plan, members, Optional.of(nodeId)));
        for (var g : gateways) {
            if (!g.expiresAt().isBefore(now)) {
                peers.add(new NodePeer(g.id(), g.publicKey(), g.endpoint(),
                        List.of(plan.infrastructureAddress(g.addressIndex()) + "/32")));
            }
        }
        return peers;
    }

    /** The peers of a gateway: every node that is not down. */
    static List<NodePeer> ofGateway(PrivateAddressing plan, Collection<PrivateNetworkStore.Member> members) {
        return nodes(plan, members, Optional.empty());
    }

    private static List<NodePeer> nodes(PrivateAddressing plan, Collection<PrivateNetworkStore.Member> members,
                                        Optional<String> except) {
        return members.stream().filter(m -> !m.down() && !except.equals(Optional.of(m.nodeId())))
                .map(m -> new NodePeer(m.nodeId(), m.link().publicKey(), m.link().endpoint(),
                        List.of(plan.nodeBlock(m.index()))))
                .toList();
    }
}
