package dev.bolero.server.cluster;

import dev.bolero.server.store.MachineRow;
import dev.bolero.server.store.ServerStore;
import dev.bolero.core.MachineState;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The singleton loops, run each tick by the leader only: node-loss detection (a node silent past the deadline goes
 * down; its machines are moved when their restart policy says so, failed otherwise), drain (machines on draining
 * nodes move elsewhere), and re-placement of machines that want to run and have no node.
 */
final class ClusterLoops implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ClusterLoops.class);

    private final ServerStore store;
    private final Clock clock;
    private final Changes changes;
    private final Duration downAfter;
    private final Duration interval;
    private final Leadership leadership;
    private final ControlPlane plane;
    private final Placements placements;
    private final Thread thread;
    private volatile boolean leading;
    private volatile boolean closed;

    ClusterLoops(ServerStore store, Clock clock, Changes changes, Duration downAfter, Duration interval,
                 Leadership leadership, ControlPlane plane, Placements placements) {
        this.store = store;
        this.clock = clock;
        this.changes = changes;
        this.downAfter = downAfter;
        this.interval = interval;
        this.leadership = leadership;
        this.plane = plane;
        this.placements = placements;
        this.thread = Thread.ofVirtual().name("cluster-loops").unstarted(this::run);
    }

    ClusterLoops start() {
        thread.start();
        return this;
    }

    /** Whether this process ran the loops at its last tick. */
    boolean leading() {
        return leading;
    }

    private void run() {
        while (!closed) {
            try {
                leading = leadership.lead();
                if (leading) tick();
            } catch (RuntimeException e) {
                log.error("cluster loops: {}", e.getMessage(), e);
            }
            try {
                Thread.sleep(interval);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    /** One pass of every loop. */
    void tick() {
        detectLoss();
        drain();
        for (MachineRow machine : store.read("list unplaced machines", tx -> tx.unplaced())) {
            plane.placeWaiting(machine);
        }
    }

    private void detectLoss() {
        Instant cutoff = clock.instant().minus(downAfter);
        for (String nodeId : store.read("find silent nodes", tx -> tx.silentNodes(cutoff))) {
            boolean down = store.write("mark node " + nodeId + " down", tx -> {
                if (!tx.markDown(nodeId, cutoff)) return false;
                Instant now = clock.instant();
                for (MachineRow m : tx.machinesOn(nodeId)) {
                    if (m.deleted()) {
                        tx.assign(m.id(), null, null, now);
                    } else if (m.moves()) {
                        tx.assign(m.id(), null, "node " + nodeId + " was lost; awaiting a node", now);
                    } else {
                        tx.fail(m.id(), "node " + nodeId + " was lost (restart policy no)", now);
                    }
                }
                for (String orphan : tx.orphanedDeleted()) tx.purge(orphan);
                tx.touchAssignments(nodeId);
                return true;
            });
            if (down) {
                log.warn("node down id={}: no heartbeat for {} s", nodeId, downAfter.toSeconds());
                changes.signal(java.util.List.of(nodeId));
            }
        }
    }

    private void drain() {
        for (MachineRow machine : store.read("list machines on draining nodes", tx -> tx.onDrainingNodes())) {
            String from = machine.nodeId();
            String action = "move machine " + machine.id() + " off draining node " + from;
            if (!machine.moves()) {
                if (machine.desiredState() == MachineState.RUNNING) plane.stop(machine.namespace(), machine.id(), null);
                continue;
            }
            var strategy = store.read(action, tx -> tx.fleet(machine.namespace(), machine.fleet()))
                    .map(dev.bolero.api.wire.Fleet::strategy).orElse(dev.bolero.api.wire.FleetStrategy.DEFAULT);
            var result = placements.place(action, machine.id(), Placements.request(machine, strategy), (tx, to) -> {
                var now = tx.machine(machine.id());
                if (now.isEmpty() || !from.equals(now.get().nodeId())
                        || now.get().deleted()) {
                    return false;
                }
                tx.assign(machine.id(), to, null, clock.instant());
                tx.touchAssignments(from);
                tx.touchAssignments(to);
                return true;
            });
            switch (result) {
                case Placements.Result.Placed placed -> {
                    log.info("machine moved id={} from={} to={}", machine.id(), from, placed.nodeId());
                    changes.signal(java.util.List.of(from, placed.nodeId()));
                }
                case Placements.Result.Refused refused -> store.update(action, tx ->
                        tx.setError(machine.id(), "cannot leave draining node: " + refused.reason(), clock.instant()));
                case Placements.Result.Skipped skipped -> { }
            }
        }
    }

    @Override
    public void close() {
        closed = true;
        thread.interrupt();
        try {
            thread.join(Duration.ofSeconds(10));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        leadership.close();
    }
}
