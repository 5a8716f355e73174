package dev.bolero.agent.cluster;

import dev.bolero.agent.machine.NodeVolumes;
import dev.bolero.agent.machine.VolumeBlocks;
import dev.bolero.api.wire.JoinResponse;
import dev.bolero.api.wire.VolumeMoveOrder;
import dev.bolero.api.wire.VolumeMoveReport;
import java.io.InputStream;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Pulls the volumes moving to this node, pass by pass, as its assignments order them ({@link VolumeMoveOrder}): each
 * pass once, on its own virtual thread, applied and verified by {@link NodeVolumes#receive}, then reported to the
 * control plane, which orders the next pass or ends the move.
 */
final class IncomingVolumes {
    private static final Logger log = LoggerFactory.getLogger(IncomingVolumes.class);

    private final NodeProtocol protocol;
    private final JoinResponse node;
    private final NodeVolumes volumes;
    /** The passes started, as {@code move/pass}; those of moves no longer listed are forgotten. */
    private final Set<String> started = ConcurrentHashMap.newKeySet();

    IncomingVolumes(NodeProtocol protocol, JoinResponse node, NodeVolumes volumes) {
        this.protocol = protocol;
        this.node = node;
        this.volumes = volumes;
    }

    /** Starts the passes in {@code orders} not started yet. */
    void follow(List<VolumeMoveOrder> orders) {
        Set<String> moves = orders.stream().map(VolumeMoveOrder::move).collect(Collectors.toSet());
        started.removeIf(key -> !moves.contains(key.substring(0, key.indexOf('/'))));
        for (VolumeMoveOrder order : orders) {
            if (started.add(order.move() + "/" + order.pass())) {
                Thread.ofVirtual().name("volume-move-" + order.move()).start(() -> pull(order));
            }
        }
    }

    private void pull(VolumeMoveOrder order) {
        VolumeMoveReport report;
        try (InputStream in = protocol.volumeBlocks(node, order)) {
            VolumeBlocks.Pass pass = volumes.receive(order, in);
            report = new VolumeMoveReport(order.pass(), pass.blocks(), pass.bytes(), pass.digest(), null);
        } catch (Exception e) {
            log.warn("volume={} move={} pass={}: {}", order.volumeId(), order.move(), order.pass(), e.getMessage());
            report = new VolumeMoveReport(order.pass(), 0, 0, null, "node " + node.nodeId() + ": " + e.getMessage());
        }
        try {
            protocol.reportMove(node, order.move(), report);
        } catch (NodeProtocol.Failure e) {
            log.warn("{} (the control plane gives the move up at its deadline)", e.getMessage());
        }
    }
}
