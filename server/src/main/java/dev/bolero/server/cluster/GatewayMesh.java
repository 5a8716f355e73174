package dev.bolero.server.cluster;

import dev.bolero.api.ApiException;
import dev.bolero.api.wire.GatewayMembership;
import dev.bolero.api.wire.NodeLink;
import dev.bolero.network.PrivateAddressing;
import dev.bolero.server.store.GatewayPeerStore;
import dev.bolero.server.store.PrivateNetworkStore;
import dev.bolero.server.store.ServerStore;
import dev.bolero.server.store.Tx;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Gateways in the private network's WireGuard mesh: a gateway registers its public key and endpoint and gets an
 * address of the plan's infrastructure range (the lowest free one; the same again for as long as it renews with the
 * same key) and the nodes as peers; every node gets it as a peer in its next assignments. A registration lasts
 * {@code lease} after its last renewal, as a node is down after {@code downAfter} of silence; {@link #expire} (run by
 * the cluster loops) ends the lapsed ones and {@link #leave} one at once. Throws {@link ApiException} naming the
 * action. See {@code docs/private-network.md}.
 */
public final class GatewayMesh {
    private static final Logger log = LoggerFactory.getLogger(GatewayMesh.class);

    private final ServerStore store;
    private final Clock clock;
    private final Changes changes;
    private final PrivateAddressing plan;
    private final Duration lease;
    private final Duration renew;

    GatewayMesh(ServerStore store, Clock clock, Changes changes, PrivateAddressing plan, Duration lease, Duration renew) {
        if (renew.compareTo(lease) >= 0) throw new IllegalArgumentException("gateway mesh: renew " + renew + " not below lease " + lease);
        this.store = store;
        this.clock = clock;
        this.changes = changes;
        this.plan = plan;
        this.lease = lease;
        this.renew = renew;
    }

    /**
     * Registers or renews the gateway holding {@code link}'s key. A new gateway, or one whose endpoint changed, is
     * told to every node (their assignment indexes are bumped).
     *
     * @throws ApiException {@code failed_precondition} when every address of the infrastructure range is taken
     */
    public GatewayMembership register(NodeLink link) {
        String action = "register gateway " + link.publicKey() + " in the mesh";
        var now = clock.instant();
        var result = store.write(action, tx -> {
            var before = tx.gatewayPeers().byKey(link.publicKey());
            int index;
            if (before.isPresent()) {
                index = before.get().addressIndex();
            } else {
                AddressPlan.check(tx, plan, action);
                tx.gatewayPeers().deleteExpired(now); // a lapsed gateway's address may be given again
                var taken = tx.gatewayPeers().all().stream().map(GatewayPeerStore.Row::addressIndex).toList();
                index = PrivateAddressing.lowestFree(taken, plan.infrastructureAddresses()).orElseThrow(() ->
                        ApiException.failedPrecondition(action + ": no free address in the infrastructure range "
                                + plan.infrastructureBlock()));
            }
            var row = new GatewayPeerStore.Row(before.map(GatewayPeerStore.Row::id).orElseGet(Tokens::id),
                    link.publicKey(), link.endpoint(), index, now.plus(lease));
            tx.gatewayPeers().put(row);
            var members = tx.privateNetwork().members();
            boolean changed = before.isEmpty() || !before.get().endpoint().equals(link.endpoint());
            var touched = changed ? touchMembers(tx, members) : List.<String>of();
            return new Registered(row, MeshPeers.ofGateway(plan, members), touched, before.isEmpty());
        });
        changes.signal(result.touched());
        if (result.isNew()) {
            log.info("gateway joined the mesh id={} address={} endpoint={}", result.row().id(),
                    plan.infrastructureAddress(result.row().addressIndex()), link.endpoint());
        }
        return new GatewayMembership(result.row().id(), plan.infrastructureAddress(result.row().addressIndex()),
                plan.pool(), seconds(lease), seconds(renew), result.peers());
    }

    private record Registered(GatewayPeerStore.Row row, List<dev.bolero.api.wire.NodePeer> peers, List<String> touched,
                              boolean isNew) {}

    /**
     * Ends the registration {@code id} (a gateway stopping cleanly): the nodes drop its peer at their next poll.
     *
     * @throws ApiException {@code not_found} when there is no such registration
     */
    public void leave(String id) {
        String action = "remove gateway " + id + " from the mesh";
        var touched = store.write(action, tx -> {
            if (!tx.gatewayPeers().delete(id)) throw ApiException.notFound(action + ": no such gateway");
            return touchMembers(tx, tx.privateNetwork().members());
        });
        changes.signal(touched);
        log.info("gateway left the mesh id={}", id);
    }

    /** Ends the registrations whose lease lapsed, telling the nodes; how many ended. */
    int expire() {
        var now = clock.instant();
        // Most ticks find no lease lapsed: they only read. A write would bump the state index, and the placements
        // would read the whole cluster again.
        if (store.read("look for lapsed gateway leases", tx -> tx.gatewayPeers().all()).stream()
                .noneMatch(gateway -> gateway.expiresAt().isBefore(now))) {
            return 0;
        }
        var ended = store.write("expire gateways of the mesh", tx -> {
            int n = tx.gatewayPeers().deleteExpired(now);
            return new Expired(n, n == 0 ? List.<String>of() : touchMembers(tx, tx.privateNetwork().members()));
        });
        if (ended.count() > 0) {
            log.warn("gateways dropped from the mesh: {} not renewed for {} s", ended.count(), lease.toSeconds());
            changes.signal(ended.touched());
        }
        return ended.count();
    }

    private record Expired(int count, List<String> touched) {}

    private static List<String> touchMembers(Tx tx, List<PrivateNetworkStore.Member> members) throws SQLException {
        var ids = members.stream().map(PrivateNetworkStore.Member::nodeId).toList();
        tx.nodes().touchAssignments(ids);
        return ids;
    }

    private static int seconds(Duration d) {
        return (int) Math.max(1, d.toSeconds());
    }
}
