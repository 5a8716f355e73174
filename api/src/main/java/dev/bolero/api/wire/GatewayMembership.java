package dev.bolero.api.wire;

import java.util.List;
import java.util.Objects;

/**
 * A gateway's place in the private network's WireGuard mesh: the answer of {@code POST /v1/gateway/mesh}, which a
 * gateway sends with its {@link NodeLink} (public key, endpoint) when it starts and again every {@code renewSeconds}.
 * A registration not renewed for {@code leaseSeconds} ends: the nodes drop the gateway as a peer and its address is
 * free again. {@code DELETE /v1/gateway/mesh/{id}} ends it at once (a clean stop).
 *
 * @param id the registration's id, the same for every renewal with the same public key
 * @param address the gateway's private address, from the plan's infrastructure range; its link's only address and
 *     the only one the nodes accept from it (its {@code /32} is its allowed IPs on every node)
 * @param pool the private network's pool, which the gateway routes into its link
 * @param leaseSeconds how long the registration lasts without a renewal
 * @param renewSeconds how often to renew it; the answer also brings the nodes' changes
 * @param peers every node of the private network that is not down, as a WireGuard peer (allowed IPs: its node block)
 */
public record GatewayMembership(String id, String address, String pool, int leaseSeconds, int renewSeconds,
                                List<NodePeer> peers) {
    public GatewayMembership {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(address, "address");
        Objects.requireNonNull(pool, "pool");
        peers = List.copyOf(peers);
    }
}
