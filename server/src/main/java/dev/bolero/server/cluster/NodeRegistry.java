package dev.bolero.server.cluster;

import dev.bolero.api.ApiException;
import dev.bolero.server.store.AllocationStore;
import dev.bolero.server.store.MachineRow;
import dev.bolero.server.store.NodeRow;
import dev.bolero.server.store.ServerStore;
import dev.bolero.server.store.Tx;
import dev.bolero.api.wire.Assignment;
import dev.bolero.api.wire.Assignments;
import dev.bolero.api.wire.Capacity;
import dev.bolero.api.wire.Heartbeat;
import dev.bolero.api.wire.HeartbeatResponse;
import dev.bolero.api.wire.JoinRequest;
import dev.bolero.api.wire.JoinResponse;
import dev.bolero.api.wire.NodeInfo;
import dev.bolero.core.NodeState;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node side of the control plane (join, assignments, heartbeats; see {@code docs/cluster-protocol.md}) and the
 * operators' view of nodes (list, cordon, uncordon, drain). Throws {@link ApiException} naming the action.
 */
public final class NodeRegistry {
    private static final Logger log = LoggerFactory.getLogger(NodeRegistry.class);
    private static final Duration RECHECK = Duration.ofSeconds(1);

    private final ServerStore store;
    private final Clock clock;
    private final Changes changes;
    private final Timing timing;
    private final Streams streams;

    /**
     * The protocol's clocks.
     *
     * @param heartbeatInterval how often agents send heartbeats
     * @param downAfter a node silent this long is down and its machines move
     * @param fenceAfter an agent whose heartbeats failed this long stops its machines; less than {@code downAfter}
     */
    public record Timing(Duration heartbeatInterval, Duration downAfter, Duration fenceAfter) {
        public Timing {
            if (fenceAfter.compareTo(downAfter) >= 0 || heartbeatInterval.compareTo(fenceAfter) >= 0) {
                throw new IllegalArgumentException("timing: need heartbeat interval < fence after < down after, got "
                        + heartbeatInterval + ", " + fenceAfter + ", " + downAfter);
            }
        }
    }

    NodeRegistry(ServerStore store, Clock clock, Changes changes, Timing timing, Streams streams) {
        this.store = store;
        this.clock = clock;
        this.changes = changes;
        this.timing = timing;
        this.streams = streams;
    }

    /** Registers a node; the credential in the answer is shown only here. */
    public JoinResponse join(JoinRequest request) {
        String id = Tokens.id();
        String credential = Tokens.generate();
        Instant now = clock.instant();
        store.write("join node " + request.name(), tx -> {
            tx.nodes().insert(NodeRow.joined(id, request.name(), request.labels(), request.drivers(), request.capacity(),
                    tx.index(), now));
            tx.tokens().insert("node-" + id, Tokens.hash(credential), "node", null, id, now);
            return null;
        });
        log.info("node joined id={} name={} labels={}", id, request.name(), request.labels());
        changes.signal();
        return new JoinResponse(id, credential, seconds(timing.heartbeatInterval()), seconds(timing.downAfter()),
                seconds(timing.fenceAfter()));
    }

    /**
     * The node's assignments once its assignment index differs from {@code index}, or after {@code wait} with the
     * index unchanged.
     */
    public Assignments assignments(String nodeId, long index, Duration wait) throws InterruptedException {
        String action = "poll assignments of node " + nodeId;
        Instant deadline = clock.instant().plus(wait);
        // Changes made by this process wake the poll; with a shared store, other servers' changes are seen by re-reading
        // the index every RECHECK. Versions are taken before each read, so a change between the read and the wait
        // is not missed.
        Duration recheck = store.shared() ? RECHECK : wait;
        while (true) {
            long seen = changes.nodeVersion(nodeId);
            // Only the one-row index while nothing changed; the machines once it has (or the wait is over).
            long current = store.read(action, tx -> tx.nodes().assignIndex(nodeId)
                    .orElseThrow(() -> ApiException.notFound(action + ": no such node")));
            Duration left = Duration.between(clock.instant(), deadline);
            if (current != index || left.isNegative() || left.isZero()) break;
            changes.awaitNode(nodeId, seen, left.compareTo(recheck) < 0 ? left : recheck);
        }
        return store.read(action, tx -> {
            // The index first: machines read after it are at least as new, so no change is ever missed.
            NodeRow node = tx.nodes().get(nodeId).orElseThrow(() -> ApiException.notFound(action + ": no such node"));
            return new Assignments(node.assignIndex(), tx.machines().on(nodeId).stream()
                    .filter(m -> !m.deleted())
                    .map(NodeRegistry::assignment).toList(), streams.pendingOn(tx, nodeId));
        });
    }

    /** Records a heartbeat: the node is ready again if it was down; observed machine states are stored. */
    public HeartbeatResponse heartbeat(String nodeId, Heartbeat heartbeat) {
        String action = "heartbeat of node " + nodeId;
        Instant now = clock.instant();
        var result = store.report(action, tx -> {
            NodeRow before = tx.nodes().get(nodeId).orElseThrow(() -> ApiException.notFound(action + ": no such node"));
            tx.nodes().heartbeat(nodeId, heartbeat.capacity(), heartbeat.drivers(), now);
            boolean changed = tx.machines().observe(nodeId, heartbeat.machines(), now);
            if (before.down()) log.info("node back id={}", nodeId);
            // The heartbeat made it ready; nothing else in this transaction changes the node.
            return new Beat(new HeartbeatResponse(before.assignIndex(), before.adminState()), changed);
        });
        if (result.changed()) changes.signal();
        return result.response();
    }

    private record Beat(HeartbeatResponse response, boolean changed) {}

    public List<NodeInfo> nodes() {
        return store.read("list nodes", tx -> {
            var allocations = tx.allocations().all();
            return tx.nodes().list().stream().map(n -> info(n, allocations.get(n.id()))).toList();
        });
    }

    public NodeInfo node(String id) {
        String action = "get node " + id;
        return store.read(action, tx -> info(find(tx, id, action), tx.allocations().of(List.of(id)).get(id)));
    }

    /** Cordons ({@code cordoned}), drains ({@code draining}) or uncordons ({@code ready}) a node. */
    public NodeInfo setAdminState(String id, NodeState adminState) {
        String action = switch (adminState) {
            case CORDONED -> "cordon node " + id;
            case DRAINING -> "drain node " + id;
            case READY -> "uncordon node " + id;
            case DOWN -> throw new IllegalArgumentException("set node " + id + " down: only heartbeats say so");
        };
        store.write(action, tx -> {
            find(tx, id, action);
            tx.nodes().setAdminState(id, adminState);
            return null;
        });
        log.info("{}", action);
        changes.signal();
        return node(id);
    }

    private static NodeRow find(Tx tx, String id, String action) throws SQLException {
        return tx.nodes().get(id).orElseThrow(() -> ApiException.notFound(action + ": no such node"));
    }

    private static NodeInfo info(NodeRow n, AllocationStore.Allocation allocation) {
        var allocated = allocation == null ? new Capacity(0, 0) : new Capacity(allocation.cpus(), allocation.memoryMb());
        return new NodeInfo(n.id(), n.name(), n.state(), n.labels(), n.drivers(), n.capacity(), allocated,
                allocation == null ? 0 : allocation.machines(), n.heartbeatAt(), n.joinedAt());
    }

    private static Assignment assignment(MachineRow m) {
        return new Assignment(m.id(), m.namespace(), m.name(), m.generation(), m.desiredState(), m.spec(), m.stop());
    }

    private static int seconds(Duration d) {
        return (int) Math.max(1, d.toSeconds());
    }
}
