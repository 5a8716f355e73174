package dev.bolero.server.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bolero.api.wire.Capacity;
import dev.bolero.api.wire.FleetScale;
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
import java.util.Optional;
import java.util.TreeMap;
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
    void aMachineWithAVolumeOnADrainingNodeMovesItsVolumeWhateverItsState() {
        var running = machine("m1", "web", "n1", MachineState.RUNNING, true, true);
        var stopped = machine("m2", "web", "n1", MachineState.STOPPED, true, true);
        var stays = machine("m3", "web", "n1", MachineState.RUNNING, false, true);
        var observed = observed(List.of(node("n1", NodeState.DRAINING, 1), node("n2", NodeState.READY, 1)),
                List.of(), List.of(running, stopped, stays));

        assertThat(Reconciler.reconcile(observed, DOWN_AFTER)).containsExactly(
                new Reconciler.Action.MoveVolume(running), new Reconciler.Action.MoveVolume(stopped),
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

    @Test
    void aFleetWithACountPerRegionGrowsAndShrinksEachRegionAloneAndShedsMachinesOfOtherRegions() {
        var nodeRegions = Map.of("ams-1", "ams", "ord-1", "ord");
        var onAmsNode = machine("a", "ams-1", MachineState.RUNNING, true); // asked for no region: its node's
        var ordOld = inRegion(machine("b", "ord-1", MachineState.RUNNING, true), "ord");
        var ordNew = inRegion(machine("c", "ord-1", MachineState.RUNNING, true), "ord");
        var ordStopped = inRegion(machine("d", "ord-1", MachineState.STOPPED, true), "ord");
        var fra = inRegion(machine("e", null, MachineState.RUNNING, true), "fra");
        var nowhere = machine("f", null, MachineState.RUNNING, true);
        var scale = new FleetScale.PerRegion(new TreeMap<>(Map.of("ams", 3, "ord", 1, "syd", 0)));
        var f = new Reconciler.FleetSize("alpha", "web", scale,
                List.of(onAmsNode, ordOld, ordNew, ordStopped, fra, nowhere), nodeRegions, Optional.empty());

        assertThat(f.shares()).extracting(s -> s.region().orElse("-") + " " + s.desired() + " " + s.machines().size())
                .containsExactly("ams 3 1", "ord 1 3", "syd 0 0", "fra 0 1", "- 0 1");
        assertThat(Reconciler.resize(f)).containsExactly(
                new Reconciler.Action.Grow("alpha", "web", Optional.of("ams"), 2),
                new Reconciler.Action.Shrink(ordStopped), new Reconciler.Action.Shrink(ordNew),
                new Reconciler.Action.Shrink(fra), new Reconciler.Action.Shrink(nowhere));

        var oneCount = new Reconciler.FleetSize("alpha", "web", new FleetScale.Total(6),
                List.of(onAmsNode, ordOld, ordNew, ordStopped, fra, nowhere), nodeRegions, Optional.empty());
        assertThat(oneCount.shares()).as("one count: one share, whatever the regions").hasSize(1);
        assertThat(Reconciler.resize(oneCount)).isEmpty();
    }

    @Test
    void aMachineIsInTheRegionItAskedForElseInItsNodesElseInNone() {
        var nodes = List.of(node("n1", NodeState.READY, 1), withLabels(node("n2", NodeState.READY, 1),
                Map.of("region", "ams")));
        var regions = Reconciler.nodeRegions(nodes);

        assertThat(regions).containsExactly(Map.entry("n2", "ams"));
        assertThat(Reconciler.regionOf(inRegion(machine("a", "n2", MachineState.RUNNING, true), "ord"), regions))
                .contains("ord");
        assertThat(Reconciler.regionOf(machine("b", "n2", MachineState.RUNNING, true), regions)).contains("ams");
        assertThat(Reconciler.regionOf(machine("c", "n1", MachineState.RUNNING, true), regions)).isEmpty();
        assertThat(Reconciler.regionOf(machine("d", null, MachineState.RUNNING, true), regions)).isEmpty();
    }

    private static NodeRow withLabels(NodeRow n, Map<String, String> labels) {
        return new NodeRow(n.id(), n.name(), n.state(), n.adminState(), labels, n.drivers(), n.capacity(),
                n.heartbeatAt(), n.assignIndex(), n.joinedAt());
    }

    /** {@code m} asking for region {@code region}. */
    static MachineRow inRegion(MachineRow m, String region) {
        return new MachineRow(m.id(), m.namespace(), m.fleet(), m.name(), m.spec(), region, m.nodeLabels(),
                m.desiredState(), m.stop(), m.generation(), m.nodeId(), m.reported(), m.modifyIndex(), m.createdAt(),
                m.updatedAt(), m.configVersion(), m.version());
    }

    private static MachineRow machine(String id, String nodeId, MachineState desired, boolean moves) {
        return machine(id, "web", nodeId, desired, moves);
    }

    private static MachineRow machine(String id, String fleet, String nodeId, MachineState desired, boolean moves) {
        return machine(id, fleet, nodeId, desired, moves, false);
    }

    /** A machine of namespace alpha; with {@code volume}, mounting volume data at /data. */
    private static MachineRow machine(String id, String fleet, String nodeId, MachineState desired, boolean moves,
                                      boolean volume) {
        var builder = MachineSpec.builder("busybox").guest(1, 256)
                .restart(new MachineSpec.Restart(moves ? "on-failure" : "no", null));
        var spec = (volume ? builder.mount("data", "/data") : builder).build();
        return new MachineRow(id, "alpha", fleet, id, spec, null, Map.of(), desired, null, 1, nodeId,
                Reported.NONE, 1, NOW, NOW, 1, 1);
    }
}
