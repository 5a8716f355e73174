package dev.bolero.agent.cluster;

import dev.bolero.agent.machine.NodeVolumes;
import dev.bolero.agent.machine.VolumeBlocks;
import dev.bolero.api.wire.JoinResponse;
import dev.bolero.api.wire.SnapshotCopyOrder;
import dev.bolero.api.wire.VolumeMoveOrder;
import dev.bolero.api.wire.VolumeMoveReport;
import java.io.IOException;
import java.io.InputStream;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Pulls the block streams this node's assignments order: the volumes moving here, pass by pass
 * ({@link VolumeMoveOrder}), and the snapshots it keeps copies of ({@link SnapshotCopyOrder}). Each pull runs once, on
 * its own virtual thread, is applied and verified by {@link NodeVolumes}, then reported to the control plane, which
 * orders the next pass, records the copy, or ends the move.
 */
final class IncomingVolumes {
    private static final Logger log = LoggerFactory.getLogger(IncomingVolumes.class);

    private final NodeProtocol protocol;
    private final JoinResponse node;
    private final NodeVolumes volumes;
    /** The passes started, as {@code move/pass}; those of moves no longer listed are forgotten. */
    private final Set<String> started = ConcurrentHashMap.newKeySet();
    /** The snapshot copies started, by copy id; those no longer listed are forgotten. */
    private final Set<String> copying = ConcurrentHashMap.newKeySet();

    IncomingVolumes(NodeProtocol protocol, JoinResponse node, NodeVolumes volumes) {
        this.protocol = protocol;
        this.node = node;
        this.volumes = volumes;
    }

    /** Starts the passes in {@code orders} and the copies in {@code copies} not started yet. */
    void follow(List<VolumeMoveOrder> orders, List<SnapshotCopyOrder> copies) {
        Set<String> moves = orders.stream().map(VolumeMoveOrder::move).collect(Collectors.toSet());
        started.removeIf(key -> !moves.contains(key.substring(0, key.indexOf('/'))));
        for (VolumeMoveOrder order : orders) {
            if (started.add(order.move() + "/" + order.pass())) {
                String what = "volume=" + order.volumeId() + " move=" + order.move() + " pass=" + order.pass();
                Thread.ofVirtual().name("volume-move-" + order.move()).start(() -> pull(what, order.pass(),
                        () -> protocol.volumeBlocks(node, order), in -> volumes.receive(order, in),
                        report -> protocol.reportMove(node, order.move(), report)));
            }
        }
        Set<String> listed = copies.stream().map(SnapshotCopyOrder::copy).collect(Collectors.toSet());
        copying.retainAll(listed);
        for (SnapshotCopyOrder copy : copies) {
            if (copying.add(copy.copy())) {
                String what = "snapshot=" + copy.snapshotId() + " copy=" + copy.copy();
                Thread.ofVirtual().name("snapshot-copy-" + copy.copy()).start(() -> pull(what, 1,
                        () -> protocol.snapshotBlocks(node, copy), in -> volumes.receiveSnapshot(copy, in),
                        report -> protocol.reportCopy(node, copy.copy(), report)));
            }
        }
    }

    /** What applies a block stream to this node's copy. */
    private interface Receiver {
        VolumeBlocks.Pass receive(InputStream in) throws IOException;
    }

    /** Pulls a block stream from {@code source}, applies it with {@code receiver} and reports how it went. */
    private void pull(String what, int pass, Supplier<InputStream> source, Receiver receiver,
                      Consumer<VolumeMoveReport> report) {
        VolumeMoveReport result;
        try (InputStream in = source.get()) {
            VolumeBlocks.Pass applied = receiver.receive(in);
            result = new VolumeMoveReport(pass, applied.blocks(), applied.bytes(), applied.digest(), null);
        } catch (Exception e) {
            log.warn("{}: {}", what, e.getMessage());
            result = new VolumeMoveReport(pass, 0, 0, null, "node " + node.nodeId() + ": " + e.getMessage());
        }
        try {
            report.accept(result);
        } catch (NodeProtocol.Failure e) {
            log.warn("{}: {} (the control plane gives it up at its deadline)", what, e.getMessage());
        }
    }
}
