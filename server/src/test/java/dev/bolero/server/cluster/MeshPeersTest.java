package dev.bolero.server.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bolero.api.wire.NodeLink;
import dev.bolero.api.wire.NodePeer;
import dev.bolero.network.PrivateAddressing;
import dev.bolero.server.store.GatewayPeerStore;
import dev.bolero.server.store.PrivateNetworkStore;
import java.time.Instant;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.Test;

class MeshPeersTest {
    private static final PrivateAddressing PLAN = PrivateAddressing.DEFAULT;
    private static final Instant NOW = Instant.parse("2026-12-03T05:00:00Z");

    private static String key(int n) {
        byte[] raw = new byte[32];
        Arrays.fill(raw, (byte) n);
        return Base64.getEncoder().encodeToString(raw);
    }

    private static PrivateNetworkStore.Member node(String id, int index, boolean down) {
        return new PrivateNetworkStore.Member(id, index, new NodeLink(key(index + 1), "192.0.2." + (index + 1) + ":51820", null), down);
    }

    private static GatewayPeerStore.Row gateway(String id, int addressIndex, Instant expiresAt) {
        return new GatewayPeerStore.Row(id, key(100 + addressIndex), "198.51.100." + (addressIndex + 1) + ":51820",
                addressIndex, expiresAt);
    }

    private static final List<PrivateNetworkStore.Member> NODES =
            List.of(node("n0", 0, false), node("n1", 1, false), node("n2", 2, true));

    @Test
    void aNodePeersWithTheOtherLiveNodesByBlockAndTheLiveGatewaysByTheirSlash32() {
        var gateways = List.of(gateway("g0", 0, NOW.plusSeconds(5)), gateway("g1", 7, NOW.minusMillis(1)),
                gateway("g2", 3, NOW));

        var peers = MeshPeers.ofNode(PLAN, "n0", NODES, gateways, NOW);

        assertThat(peers).extracting(NodePeer::nodeId).containsExactly("n1", "g0", "g2");
        assertThat(peers).extracting(NodePeer::allowedIps)
                .containsExactly(List.of("10.4.0.0/14"), List.of("10.252.0.1/32"), List.of("10.252.0.4/32"));
        assertThat(peers.get(1).publicKey()).isEqualTo(key(100));
        assertThat(peers.get(1).endpoint()).isEqualTo("198.51.100.1:51820");
    }

    @Test
    void aGatewayPeersWithEveryLiveNodeAndNoGateway() {
        var peers = MeshPeers.ofGateway(PLAN, NODES);

        assertThat(peers).extracting(NodePeer::nodeId).containsExactly("n0", "n1");
        assertThat(peers).extracting(NodePeer::allowedIps).containsExactly(List.of("10.0.0.0/14"), List.of("10.4.0.0/14"));
    }

    @Test
    void withoutGatewaysANodesPeersAreTheOtherNodes() {
        assertThat(MeshPeers.ofNode(PLAN, "n1", NODES, List.of(), NOW)).extracting(NodePeer::nodeId).containsExactly("n0");
    }
}
