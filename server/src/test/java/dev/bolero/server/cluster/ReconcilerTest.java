package dev.bolero.server.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bolero.api.wire.Capacity;
import dev.bolero.api.wire.FleetStrategy;
import dev.bolero.core.Driver;
import dev.bolero.core.MachineSpec;
import dev.bolero.core.MachineState;
import dev.bolero.core.NodeState;
import dev.bolero.server.store.MachineRow;
import dev.bolero.server.store.Reported;
import dev.bolero.server.store.NodeRow;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The reconciler's decisions on fake node sets: desired and actual state in, actions out. */
class ReconcilerTest {
    private static final Instant NOW = Instant.parse("2026-12-02T12:00:00Z");
    private static final Duration DOWN_AFTER = Duration.ofSeconds(30);

    @Test
    void aClusterWhereEverythingIsWhereItShouldBeNeedsNothing() {
        var observed = observed(List.of(node("n1", NodeState.READY, 1), node("n2", NodeState.CORDONED, 29)),
                List.of(), List.of());

        assertThat(Reconciler.reconcile(observed, DOWN_AFTER)).isEmpty();
    }

    @Test
    void aReadyNodeSilentPastTheDeadlineGoesDownOnce() {
        var silent = node("n1", NodeState.READY, 31);
        var alreadyDown = down(node("n2", NodeState.READY, 300));
        var observed = observed(List.of(silent, alreadyDown, node("n3", NodeState.READY, 30)), List.of(), List.of());

        assertThat(Reconciler.reconcile(observed, DOWN_AFTER))
                .containsExactly(new Reconciler.Action.MarkDown("n1", NOW.minus(DOWN_AFTER)));
    }

    @Test
    void aMachineThatWantsToRunWithoutANodeIsScheduledWithItsFleetsStrategy() {
        var waiting = machine("m1", null, MachineState.RUNNING, true);
        var other = machine("m2", "db", null, MachineState.RUNNING, true);
        var observed = new Reconciler.Observed(NOW, List.of(node("n1", NodeState.READY, 1)), List.of(waiting, other),
                List.of(), Map.of("alpha/db", FleetStrategy.BINPACK), List.of());

        assertThat(Reconciler.reconcile(observed, DOWN_AFTER)).containsExactly(
                new Reconciler.Action.Schedule(new Placements.Job.Place(waiting, FleetStrategy.DEFAULT)),
                new Reconciler.Action.Schedule(new Placements.Job.Place(other, FleetStrategy.BINPACK)));
    }

    @Test
    void stoppedOrDeletedMachinesWithoutANodeStayWhereTheyAre() {
        var observed = observed(List.of(node("n1", NodeState.READY, 1)),
                List.of(machine("m1", null, MachineState.STOPPED, true),
                        machine("m2", null, MachineState.DESTROYED, true)), List.of());

        assertThat(Reconciler.reconcile(observed, DOWN_AFTER)).isEmpty();
    }

    @Test
    void machinesOnADrainingNodeMoveOrStopByTheirRestartPolicy() {
        var moves = machine("m1", "n1", MachineState.RUNNING, true);
        var stays = machine("m2", "n1", MachineState.RUNNING, false);
        var alreadyStopped = machine("m3", "n1", MachineState.STOPPED, false);
        var deleted = machine("m4", "n1", MachineState.DESTROYED, true);
        var observed = observed(List.of(node("n1", NodeState.DRAINING, 1), node("n2", NodeState.READY, 1)),
                List.of(), List.of(moves, stays, alreadyStopped, deleted));

        assertThat(Reconciler.reconcile(observed, DOWN_AFTER)).containsExactly(
                new Reconciler.Action.Schedule(new Placements.Job.Move(moves, "n1", FleetStrategy.DEFAULT)),
                new Reconciler.Action.Stop(stays));
    }

    @Test
    void aSuspendedMachineOnADrainingNodeMovesByItsRestartPolicyOrStaysSuspendedAndOneWithoutANodeWaitsForAStart() {
        var moves = machine("m1", "n1", MachineState.SUSPENDED, true);
        var stays = machine("m2", "n1", MachineState.SUSPENDED, false);
        var nodeLost = machine("m3", null, MachineState.SUSPENDED, true);
        var observed = observed(List.of(node("n1", NodeState.DRAINING, 1), node("n2", NodeState.READY, 1)),
                List.of(nodeLost), List.of(moves, stays));

        assertThat(Reconciler.reconcile(observed, DOWN_AFTER)).containsExactly(
                new Reconciler.Action.Schedule(new Placements.Job.Move(moves, "n1", FleetStrategy.DEFAULT)));
    }

    @Test
    void aNodeNoLongerDrainingKeepsItsMachines() {
        var observed = observed(List.of(node("n1", NodeState.READY, 1)), List.of(),
                List.of(machine("m1", "n1", MachineState.RUNNING, true)));

        assertThat(Reconciler.reconcile(observed, DOWN_AFTER)).isEmpty();
    }

    @Test
    void lossesComeBeforePlacementsAndPlacementsBeforeStops() {
        var waiting = machine("m1", null, MachineState.RUNNING, true);
        var draining = machine("m2", "n2", MachineState.RUNNING, false);
        var observed = observed(List.of(node("n1", NodeState.READY, 60), node("n2", NodeState.DRAINING, 1)),
                List.of(waiting), List.of(draining));

        assertThat(Reconciler.reconcile(observed, DOWN_AFTER)).extracting(a -> a.getClass().getSimpleName())
                .containsExactly("MarkDown", "Schedule", "Stop");
    }

    @Test
    void aLostNodesMachinesAreReleasedRequeuedOrFailed() {
        var deleted = machine("m1", "n1", MachineState.DESTROYED, true);
        var moves = machine("m2", "n1", MachineState.RUNNING, true);
        var stays = machine("m3", "n1", MachineState.RUNNING, false);

        assertThat(Reconciler.lost("n1", List.of(deleted, moves, stays))).containsExactly(
                new Reconciler.Eviction.Release("m1"),
                new Reconciler.Eviction.Requeue("m2", "node n1 was lost; awaiting a node"),
                new Reconciler.Eviction.Fail("m3", "node n1 was lost (restart policy no)"));
    }

    private static Reconciler.Observed observed(List<NodeRow> nodes, List<MachineRow> unplaced,
                                                List<MachineRow> onDraining) {
        return new Reconciler.Observed(NOW, nodes, unplaced, onDraining, Map.of(), List.of());
    }

    /** A node whose last heartbeat was {@code silentS} seconds ago, in administrative state {@code admin}. */
    private static NodeRow node(String id, NodeState admin, int silentS) {
        return new NodeRow(id, id, NodeState.READY, admin, Map.of(), List.of(Driver.QEMU), new Capacity(8, 8192),
                NOW.minusSeconds(silentS), 1, NOW.minusSeconds(3600));
    }

    private static NodeRow down(NodeRow n) {
        return new NodeRow(n.id(), n.name(), NodeState.DOWN, n.adminState(), n.labels(), n.drivers(), n.capacity(),
                n.heartbeatAt(), n.assignIndex(), n.joinedAt());
    }

    @Test
    void aFleetBelowItsCountGrowsAndOneAboveShedsTheMachinesDoingLeastNewestFirst() {
        var placedOld = machine("a", "n1", MachineState.RUNNING, true);
        var placedNew = machine("b", "n1", MachineState.RUNNING, true);
        var stopped = machine("c", "n1", MachineState.STOPPED, true);
        var unplaced = machine("d", null, MachineState.RUNNING, true);
        var all = List.of(placedOld, placedNew, stopped, unplaced);

        assertThat(Reconciler.resize(new Reconciler.FleetSize("alpha", "web", 6, all)))
                .containsExactly(new Reconciler.Action.Grow("alpha", "web", 2));
        assertThat(Reconciler.resize(new Reconciler.FleetSize("alpha", "web", 4, all))).isEmpty();
        assertThat(Reconciler.resize(new Reconciler.FleetSize("alpha", "web", 1, all))).containsExactly(
                new Reconciler.Action.Shrink(unplaced), new Reconciler.Action.Shrink(stopped),
                new Reconciler.Action.Shrink(placedNew));
        assertThat(Reconciler.resize(new Reconciler.FleetSize("alpha", "web", 0, List.of()))).isEmpty();
        var observed = new Reconciler.Observed(NOW, List.of(node("n1", NodeState.READY, 1)), List.of(), List.of(),
                Map.of(), List.of(new Reconciler.FleetSize("alpha", "web", 3, List.of(placedOld))));
        assertThat(Reconciler.reconcile(observed, DOWN_AFTER))
                .containsExactly(new Reconciler.Action.Grow("alpha", "web", 2));
    }

    private static MachineRow machine(String id, String nodeId, MachineState desired, boolean moves) {
        return machine(id, "web", nodeId, desired, moves);
    }

    private static MachineRow machine(String id, String fleet, String nodeId, MachineState desired, boolean moves) {
        var spec = MachineSpec.builder("busybox").guest(1, 256)
                .restart(new MachineSpec.Restart(moves ? "on-failure" : "no", null)).build();
        return new MachineRow(id, "alpha", fleet, id, spec, null, Map.of(), desired, null, 1, nodeId,
                Reported.NONE, 1, NOW, NOW, 1, 1);
    }
}
