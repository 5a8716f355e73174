package dev.bolero.server.cluster;

import dev.bolero.api.ApiException;
import dev.bolero.api.ErrorCode;
import dev.bolero.api.wire.Volume;
import dev.bolero.api.wire.VolumeMove;
import dev.bolero.api.wire.VolumeMoveReport;
import dev.bolero.api.wire.VolumeMoveSpec;
import dev.bolero.core.MachineState;
import dev.bolero.scheduler.PlacementRequest;
import dev.bolero.scheduler.Resources;
import dev.bolero.scheduler.Strategy;
import dev.bolero.server.store.MachineRow;
import dev.bolero.server.store.Page;
import dev.bolero.server.store.ServerStore;
import dev.bolero.server.store.VolumeStore.MoveRow;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Volume moves: a volume's data copied from its node to another, block by block, and verified, while the volume stays
 * usable where it is until the copy is recorded. One virtual thread drives each move, on the replica that began it:
 *
 * <ol>
 *   <li>pass 1: the target node pulls every block of the volume from its node (relayed by this replica, see
 *       {@link Streams#openVolume}) while its machine, if any, keeps running, and verifies its copy's digest;</li>
 *   <li>the machine is stopped; the final pass carries the blocks that changed since pass 1, and the target verifies
 *       its copy against the source's digest again, now over a volume no one writes;</li>
 *   <li>one transaction records the volume on the target: the source's assignments no longer list it, so its node
 *       removes its copy only now; the move is {@code following} while the machine is placed on the target (its
 *       volume pins it there) and started, then {@code done}.</li>
 * </ol>
 *
 * A failure before the record (a pass not verified, either node down, no report within the deadline) ends the move
 * {@code failed}: the
 * volume stays on its node, its machine is started again there, and the target's assignments no longer list the
 * move, so it removes its partial copy. Every step goes into the move's history ({@link VolumeMove#steps()}) and the
 * log. A volume moves only while no other move of it runs; a machine mounting more than one volume is not moved.
 *
 * <p>A move whose driver went away (not marked as driven for {@link #ABANDONED}: its replica stopped) is taken over
 * by the leader's loops ({@link #takeOverAbandoned}) or by the next move of its volume, on one replica only: one still
 * copying fails as above; one {@code following} goes on where it stopped, its machine placed and started on the
 * volume's new node.
 */
public final class VolumeMoves {
    private static final Logger log = LoggerFactory.getLogger(VolumeMoves.class);
    /** The final pass's number. */
    private static final int FINAL = 2;
    /** How often the driver looks for the target's report. */
    private static final Duration POLL = Duration.ofMillis(200);
    /** How often the driver marks its move as driven. */
    private static final Duration ALIVE = Duration.ofSeconds(10);
    /** An unfinished move not marked as driven for this long lost its driver (its server replica stopped). */
    static final Duration ABANDONED = Duration.ofMinutes(2);

    private final ServerStore store;
    private final Clock clock;
    private final Changes changes;
    private final Placements placements;
    private final ControlPlane plane;
    private final Streams streams;
    private final Duration passDeadline;

    VolumeMoves(ServerStore store, Clock clock, Changes changes, Placements placements, ControlPlane plane,
                Streams streams, Duration passDeadline) {
        this.store = store;
        this.clock = clock;
        this.changes = changes;
        this.placements = placements;
        this.plane = plane;
        this.streams = streams;
        this.passDeadline = passDeadline;
    }

    /**
     * Begins moving volume {@code name} to {@code spec.node()}, or to a node the scheduler finds feasible for its
     * machine (for the smallest machine when it is detached) other than its own.
     *
     * @throws ApiException {@code not_found}; {@code failed_precondition} when it lives on no node yet, its machine
     *     mounts other volumes too, or no node can take it; {@code conflict} when it is moving already;
     *     {@code invalid_argument} for its own node as the target
     */
    public VolumeMove move(String namespace, String name, VolumeMoveSpec spec) {
        String action = "move volume " + namespace + "/" + name;
        abandonStale(namespace, name);
        Volume volume = store.read(action, tx -> tx.volumes().get(namespace, name))
                .orElseThrow(() -> ApiException.notFound(action + ": no such volume"));
        if (volume.nodeId() == null) {
            throw ApiException.failedPrecondition(action + ": it lives on no node yet (no machine mounted it)");
        }
        Optional<MachineRow> machine = volume.machineId() == null ? Optional.empty()
                : store.read(action, tx -> tx.machines().get(volume.machineId())).filter(m -> !m.deleted());
        if (machine.isPresent() && machine.get().spec().mounts().size() > 1) {
            throw ApiException.failedPrecondition(action + ": its machine " + machine.get().id() + " mounts "
                    + machine.get().spec().mounts().size() + " volumes (a move takes a machine with one)");
        }
        String node = spec == null ? null : spec.node();
        if (volume.nodeId().equals(node)) throw ApiException.invalid(action + ": it lives on node " + node + " already");
        String target = placements.feasibleNode(request(volume, machine, Optional.ofNullable(node)), volume.nodeId(),
                action + (node == null ? "" : " to node " + node));
        String id = "mov_" + Tokens.id();
        MoveRow row = store.write(action, tx -> {
            Volume now = tx.volumes().get(namespace, name)
                    .orElseThrow(() -> ApiException.notFound(action + ": no such volume"));
            if (tx.volumes().activeMove(namespace, name).isPresent()) {
                throw ApiException.conflict(action + ": it is moving already");
            }
            if (!volume.nodeId().equals(now.nodeId())) {
                throw ApiException.conflict(action + ": it went to node " + now.nodeId() + " meanwhile");
            }
            tx.volumes().insertMove(id, namespace, now, target, clock.instant());
            tx.volumes().addMoveStep(id, "moving from node " + now.nodeId() + " to node " + target
                    + (now.machineId() == null ? " (detached)" : " (attached to machine " + now.machineId() + ")"),
                    clock.instant());
            tx.nodes().touchAssignments(target);
            return tx.volumes().move(id).orElseThrow();
        });
        log.info("volume move={} {}/{} from={} to={} begins", id, namespace, name, row.fromNode(), target);
        changes.signal(List.of(target));
        Thread.ofVirtual().name("volume-move-" + id).start(() -> drive(row, machine));
        return moves(namespace, name, Page.first(1)).getFirst();
    }

    /**
     * Moves the volume of machine {@code machine}, which is on a draining node, unless a move of it runs already; a
     * refusal is recorded on the machine ({@code cannot leave draining node: …}).
     */
    void drain(MachineRow machine) {
        if (machine.spec().mounts().isEmpty()) return;
        String volume = machine.spec().mounts().getFirst().volume();
        abandonStale(machine.namespace(), volume);
        boolean moving = store.read("read moves of volume " + volume, tx ->
                tx.volumes().activeMove(machine.namespace(), volume).isPresent());
        if (moving) return;
        try {
            move(machine.namespace(), volume, new VolumeMoveSpec(null));
        } catch (ApiException e) {
            store.update("record why machine " + machine.id() + " stays", tx -> {
                tx.machines().setError(machine.id(), "cannot leave draining node: " + e.getMessage(), clock.instant());
                return null;
            });
        }
    }

    /** Takes over the volume's unfinished move when its driver went away ({@link #takeOver}). */
    private void abandonStale(String namespace, String volume) {
        Instant cutoff = clock.instant().minus(ABANDONED);
        store.read("read moves of volume " + volume, tx -> tx.volumes().activeMove(namespace, volume))
                .filter(m -> m.updatedAt().isBefore(cutoff))
                .ifPresent(this::takeOver);
    }

    /** Takes over every unfinished move whose driver went away ({@link #takeOver}); the leader's loops call it. */
    void takeOverAbandoned() {
        Instant cutoff = clock.instant().minus(ABANDONED);
        for (MoveRow m : store.read("read abandoned volume moves", tx -> tx.volumes().undrivenMoves(cutoff))) {
            takeOver(m);
        }
    }

    /**
     * Drives a move whose driver went away (the replica driving it stopped), once this replica claimed it: one still
     * copying ends as a failure would (the target drops its copy, a machine the move stopped starts again where it
     * is); one following its volume goes on (its machine placed on the volume's new node, started there if the move
     * stopped it, then done). Nothing when another replica claimed it first.
     */
    private void takeOver(MoveRow m) {
        boolean claimed = store.update("take over volume move " + m.id(), tx ->
                tx.volumes().claimMove(m.id(), m.updatedAt(), clock.instant()));
        if (!claimed) return;
        log.warn("volume move={} {}/{}: taking it over in state {}, its driver went away", m.id(), m.namespace(),
                m.volume(), m.state().wireName());
        if (m.state() == VolumeMove.State.FOLLOWING) {
            step(m, "taken over after its driver went away: the machine follows the volume");
            follow(m, m.stoppedMachine());
        } else {
            fail(m, new IllegalStateException("its driver stopped (the server replica driving it went away)"),
                    m.stoppedMachine());
        }
    }

    /**
     * One page of the moves of volume {@code name}, newest first (by creation, then id).
     *
     * @throws ApiException {@code not_found} for no such volume
     */
    public List<VolumeMove> moves(String namespace, String name, Page page) {
        String action = "list moves of volume " + namespace + "/" + name;
        return store.read(action, tx -> {
            if (tx.volumes().get(namespace, name).isEmpty()) throw ApiException.notFound(action + ": no such volume");
            return tx.volumes().moves(namespace, name, page);
        });
    }

    /**
     * Records the target node's report of a pass.
     *
     * @throws ApiException {@code not_found} when node {@code nodeId} is not the target of an unfinished move
     *     {@code moveId}
     */
    public void report(String nodeId, String moveId, VolumeMoveReport report) {
        String action = "report pass " + report.pass() + " of volume move " + moveId;
        store.update(action, tx -> {
            MoveRow move = tx.volumes().move(moveId).filter(m -> m.toNode().equals(nodeId) && !m.state().ended())
                    .orElseThrow(() -> ApiException.notFound(action + ": node " + nodeId + " has no such move"));
            if (report.pass() != move.pass()) {
                throw ApiException.conflict(action + ": the move asks for pass " + move.pass());
            }
            tx.volumes().reportMove(moveId, report.pass(), report.verified() ? report.digest() : null,
                    report.verified() ? null : report.error(), clock.instant());
            if (report.verified()) {
                tx.volumes().addMoveStep(moveId, "node " + nodeId + " applied pass " + report.pass() + ": "
                        + report.blocks() + " changed blocks, " + report.bytes() + " bytes of data", clock.instant());
            }
            return null;
        });
    }

    /**
     * The stream of the pass move {@code moveId} asks target node {@code nodeId} for, from the volume's node.
     *
     * @throws ApiException {@code not_found} when that node is not the target of an unfinished move of that id asking
     *     for {@code pass}
     */
    public Streams.Pending blocks(String nodeId, String moveId, int pass) {
        String action = "pull pass " + pass + " of volume move " + moveId;
        MoveRow move = store.read(action, tx -> tx.volumes().move(moveId))
                .filter(m -> m.toNode().equals(nodeId) && !m.state().ended() && m.pass() == pass)
                .orElseThrow(() -> ApiException.notFound(action + ": node " + nodeId + " has no such pass to pull"));
        return streams.openVolume(move.fromNode(), move.volumeId(), moveId, pass);
    }

    /** What the scheduler is asked for the target: the machine's needs, or the smallest machine's. */
    private static PlacementRequest request(Volume volume, Optional<MachineRow> machine, Optional<String> node) {
        var region = Optional.ofNullable(volume.region());
        if (machine.isPresent()) {
            return Placements.request(machine.get(), dev.bolero.api.wire.FleetStrategy.DEFAULT,
                    new Volumes.Pin(node, region));
        }
        return new PlacementRequest(new Resources(1, 1), region, Map.of(), Optional.empty(), Strategy.BINPACK,
                Optional.empty(), Set.of(), node);
    }

    private void drive(MoveRow move, Optional<MachineRow> attached) {
        String volume = move.namespace() + "/" + move.volume();
        boolean stopped = false;
        try {
            MachineRow machine = attached.orElse(null);
            step(move, "pass 1: copying every block " + (machine == null ? "(the volume is detached)"
                    : "while machine " + machine.id() + " runs"));
            step(move, "pass 1: " + awaitPass(move, 1));
            if (machine != null) {
                MachineRow now = store.read("read machine " + machine.id(), tx -> tx.machines().get(machine.id()))
                        .orElse(null);
                if (now != null && !now.deleted() && now.desiredState() == MachineState.RUNNING) {
                    // Recorded first: whoever ends the move starts the machine again, even if this replica stops now.
                    store.update("record that volume move " + move.id() + " stops machine " + machine.id(), tx -> {
                        tx.volumes().markMachineStopped(move.id(), clock.instant());
                        return null;
                    });
                    stopped = true;
                    plane.stop(machine.namespace(), machine.id(), null);
                    step(move, "machine " + machine.id() + " stopping for the final pass");
                    awaitStopped(move, machine);
                    step(move, "machine " + machine.id() + " stopped on node " + move.fromNode());
                }
            }
            store.write("begin the final pass of volume move " + move.id(), tx -> {
                tx.volumes().setMove(move.id(), VolumeMove.State.FINAL_PASS, FINAL, null, clock.instant());
                tx.nodes().touchAssignments(move.toNode());
                return null;
            });
            changes.signal(List.of(move.toNode()));
            step(move, "final pass: copying the blocks changed since pass 1");
            step(move, "final pass: " + awaitPass(move, FINAL));
            // With a machine, the move is not over until the machine went with the volume.
            var recorded = attached.isPresent() ? VolumeMove.State.FOLLOWING : VolumeMove.State.DONE;
            store.write("record volume " + volume + " on node " + move.toNode(), tx -> {
                Volume v = tx.volumes().get(move.namespace(), move.volume()).orElseThrow(() ->
                        new IllegalStateException("the volume was deleted"));
                if (!move.fromNode().equals(v.nodeId())) {
                    throw new IllegalStateException("the volume went to node " + v.nodeId() + " meanwhile");
                }
                tx.volumes().relocate(move.namespace(), move.volume(), move.toNode(), clock.instant());
                tx.volumes().setMove(move.id(), recorded, FINAL, null, clock.instant());
                tx.volumes().addMoveStep(move.id(), "volume recorded on node " + move.toNode() + "; its copy on node "
                        + move.fromNode() + " goes", clock.instant());
                tx.nodes().touchAssignments(List.of(move.fromNode(), move.toNode()));
                return null;
            });
            changes.signal(List.of(move.fromNode(), move.toNode()));
            log.info("volume move={} {}: recorded on node {}", move.id(), volume, move.toNode());
        } catch (Exception e) {
            fail(move, e, stopped);
            return;
        }
        if (attached.isPresent()) follow(move, stopped);
    }

    /**
     * Waits until the move's machine stopped (or failed), marking the move as driven meanwhile, for at most the pass
     * deadline.
     *
     * @throws ApiException {@code timeout} when it did not stop in time, {@code not_found} when it was deleted
     */
    private void awaitStopped(MoveRow move, MachineRow machine) throws InterruptedException {
        Instant deadline = clock.instant().plus(passDeadline);
        while (true) {
            Duration left = Duration.between(clock.instant(), deadline);
            try {
                plane.await(machine.namespace(), machine.id(), Set.of(MachineState.STOPPED, MachineState.FAILED),
                        left.compareTo(ALIVE) < 0 ? left : ALIVE);
                return;
            } catch (ApiException e) {
                if (e.code() != ErrorCode.TIMEOUT || !clock.instant().isBefore(deadline)) throw e;
            }
            store.update("mark volume move " + move.id() + " driven", tx -> {
                tx.volumes().touchMove(move.id(), clock.instant());
                return null;
            });
        }
    }

    /**
     * Places the move's machine on the volume's new node and starts it there when the move stopped it
     * ({@code stopped}); then the move is done, whether the machine could follow or not (the steps say).
     */
    private void follow(MoveRow move, boolean stopped) {
        String machineId = move.machineId();
        try {
            MachineRow row = store.read("read machine " + machineId, tx -> tx.machines().get(machineId)).orElse(null);
            if (row != null && !row.deleted()) {
                if (move.toNode().equals(row.nodeId())) {
                    step(move, "machine " + machineId + " is on node " + move.toNode() + " already");
                } else {
                    var strategy = store.read("read fleet of machine " + machineId,
                            tx -> ClusterLoops.strategy(tx, row));
                    switch (placements.place(new Placements.Job.Move(row, move.fromNode(), strategy))) {
                        case Placements.Result.Placed placed -> step(move, "machine " + machineId + " moved to node "
                                + placed.nodeId());
                        case Placements.Result.Refused refused -> step(move, "machine " + machineId
                                + " cannot go to node " + move.toNode() + " yet: " + refused.reason());
                        case Placements.Result r -> step(move, "machine " + machineId + " not moved: " + r);
                    }
                }
                if (stopped) {
                    plane.start(row.namespace(), machineId);
                    step(move, "machine " + machineId + " started on node " + move.toNode());
                }
            } else {
                step(move, "machine " + machineId + " was deleted meanwhile");
            }
        } catch (RuntimeException e) {
            log.warn("volume move={}: machine {} did not follow: {}", move.id(), machineId, e.getMessage());
            step(move, "machine " + machineId + " did not follow: " + e.getMessage());
        }
        try {
            store.update("end volume move " + move.id(), tx -> {
                tx.volumes().setMove(move.id(), VolumeMove.State.DONE, FINAL, null, clock.instant());
                return null;
            });
        } catch (RuntimeException e) {
            log.error("volume move={}: record its end: {}", move.id(), e.getMessage());
        }
    }

    /** Ends the move failed: the target drops its copy; the machine stopped for it starts again on its node. */
    private void fail(MoveRow move, Exception e, boolean stopped) {
        String why = e instanceof InterruptedException ? "interrupted" : e.getMessage();
        log.warn("volume move={} {}/{} failed: {}", move.id(), move.namespace(), move.volume(), why);
        try {
            store.write("fail volume move " + move.id(), tx -> {
                int pass = tx.volumes().move(move.id()).map(MoveRow::pass).orElse(1);
                tx.volumes().setMove(move.id(), VolumeMove.State.FAILED, pass, why, clock.instant());
                tx.volumes().addMoveStep(move.id(), "failed: " + why + "; the volume stays on node "
                        + move.fromNode() + ", node " + move.toNode() + " removes its partial copy", clock.instant());
                tx.nodes().touchAssignments(move.toNode());
                return null;
            });
            changes.signal(List.of(move.toNode()));
            if (stopped && move.machineId() != null) {
                plane.start(move.namespace(), move.machineId());
                step(move, "machine " + move.machineId() + " started again on node " + move.fromNode());
            }
        } catch (RuntimeException again) {
            log.error("volume move={}: record its failure: {}", move.id(), again.getMessage());
        }
    }

    /**
     * Waits for the target's report of {@code pass}; what it says.
     *
     * @throws IllegalStateException naming the failure when the pass failed, or when no report came within the
     *     deadline
     */
    private String awaitPass(MoveRow move, int pass) throws InterruptedException {
        Instant deadline = clock.instant().plus(passDeadline);
        while (true) {
            MoveRow now = store.read("read volume move " + move.id(), tx -> tx.volumes().move(move.id()))
                    .orElseThrow(() -> new IllegalStateException("the move is gone"));
            if (now.error() != null) throw new IllegalStateException("pass " + pass + ": " + now.error());
            if (now.reportedPass() >= pass) return "verified on node " + move.toNode() + ", digest " + now.digest();
            for (String node : List.of(move.fromNode(), move.toNode())) {
                boolean down = store.read("read node " + node, tx -> tx.nodes().get(node).map(n -> n.down())
                        .orElse(true));
                if (down) throw new IllegalStateException("pass " + pass + ": node " + node + " is down");
            }
            if (clock.instant().isAfter(deadline)) {
                throw new IllegalStateException("pass " + pass + ": node " + move.toNode() + " reported nothing within "
                        + passDeadline.toSeconds() + " s");
            }
            if (Duration.between(now.updatedAt(), clock.instant()).compareTo(ALIVE) > 0) {
                store.update("mark volume move " + move.id() + " driven", tx -> {
                    tx.volumes().touchMove(move.id(), clock.instant());
                    return null;
                });
            }
            Thread.sleep(POLL);
        }
    }

    private void step(MoveRow move, String message) {
        log.info("volume move={} {}/{}: {}", move.id(), move.namespace(), move.volume(), message);
        store.update("record a step of volume move " + move.id(), tx -> {
            tx.volumes().addMoveStep(move.id(), message, clock.instant());
            return null;
        });
    }
}
