package dev.bolero.server.cluster;

import dev.bolero.api.wire.DeployStatus;
import dev.bolero.api.wire.DeployStep;
import dev.bolero.api.wire.Deployment;
import dev.bolero.api.wire.FleetStrategy;
import dev.bolero.core.MachineState;
import dev.bolero.core.NodeState;
import dev.bolero.server.store.MachineRow;
import dev.bolero.server.store.NodeRow;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * The control plane's decisions: compares what is wanted (machines that should run, nodes that should heartbeat, nodes
 * an operator drains) with what is (the machines' nodes, the nodes' last heartbeats) and says what to do about each
 * difference. Pure: no store, no clock (the time is in the {@link Observed} state), no logging; {@link ClusterLoops}
 * reads the state, asks, and carries the actions out, placing machines through {@link Placements} in one batch.
 */
final class Reconciler {
    private Reconciler() {}

    /**
     * What the reconciler compares, read at one instant.
     *
     * @param now when it was read
     * @param nodes every node
     * @param unplaced the machines that want to run and have no node
     * @param onDraining the live machines on draining nodes
     * @param strategies how each fleet ({@code namespace/fleet}) of those machines places; absent: the default
     * @param sized the fleets with a {@code count}, each with its live machines (deleted ones left out)
     */
    record Observed(Instant now, List<NodeRow> nodes, List<MachineRow> unplaced, List<MachineRow> onDraining,
                    Map<String, FleetStrategy> strategies, List<FleetSize> sized) {
        Observed {
            Objects.requireNonNull(now, "observed: now");
            nodes = List.copyOf(nodes);
            unplaced = List.copyOf(unplaced);
            onDraining = List.copyOf(onDraining);
            strategies = Map.copyOf(strategies);
            sized = List.copyOf(sized);
        }

        FleetStrategy strategy(MachineRow machine) {
            return strategies.getOrDefault(fleetKey(machine), FleetStrategy.DEFAULT);
        }
    }

    /**
     * A fleet that keeps {@code count} machines, and the ones it has.
     *
     * @param machines its machines not deleted, oldest first
     * @param deployment its active deployment, which {@link Deploys} drives instead of a plain resize
     */
    record FleetSize(String namespace, String fleet, int count, List<MachineRow> machines,
                     Optional<Deployment> deployment) {
        FleetSize {
            machines = List.copyOf(machines);
            Objects.requireNonNull(deployment, "fleet size: deployment");
        }

        /** A fleet without an active deployment. */
        FleetSize(String namespace, String fleet, int count, List<MachineRow> machines) {
            this(namespace, fleet, count, machines, Optional.empty());
        }
    }

    /** What to do about one difference. */
    sealed interface Action {
        /** A ready node silent since before {@code cutoff}: mark it down and take its machines off it ({@link #lost}). */
        record MarkDown(String nodeId, Instant cutoff) implements Action {}

        /** Place a machine: one without a node, or one leaving a draining node. */
        record Schedule(Placements.Job job) implements Action {}

        /** A machine on a draining node that mounts a volume: move its volume, which the machine follows. */
        record MoveVolume(MachineRow machine) implements Action {}

        /** A machine on a draining node whose restart policy keeps it there: stop it. */
        record Stop(MachineRow machine) implements Action {}

        /** A fleet below its count: create {@code missing} machines from its config. */
        record Grow(String namespace, String fleet, int missing) implements Action {}

        /** A machine of a fleet above its count, or replaced by a deployment: delete it. */
        record Shrink(MachineRow machine) implements Action {}

        /**
         * A new machine of running deployment {@code deployment} failed: go back to its former release, recording
         * {@code step} (its message the reason) with the turn.
         */
        record RollBack(Deployment deployment, DeployStep step) implements Action {
            String reason() {
                return step.message();
            }
        }

        /**
         * Active deployment {@code deployment} is over: it ends {@code status}, {@code message} saying why, recording
         * {@code step} with the end.
         */
        record Finish(Deployment deployment, DeployStatus status, String message, DeployStep step) implements Action {}

        /** Active deployment {@code deployment} did {@code step}: record it. */
        record Note(Deployment deployment, DeployStep step) implements Action {}
    }

    /** What happens to one machine of a lost node. */
    sealed interface Eviction {
        String machineId();

        /** A deleted machine: released from the node (its row goes once nothing holds it). */
        record Release(String machineId) implements Eviction {}

        /** A machine whose restart policy moves it: it waits for a new node, {@code reason} saying why. */
        record Requeue(String machineId, String reason) implements Eviction {}

        /** A machine whose restart policy is {@code no}: failed, {@code reason} saying why. */
        record Fail(String machineId, String reason) implements Eviction {}
    }

    /**
     * The actions that bring {@code observed} closer to what is wanted, node losses first, then placements (in the
     * order the machines were created), then stops. A node is lost when it is ready and its last heartbeat is older
     * than {@code downAfter}.
     */
    static List<Action> reconcile(Observed observed, Duration downAfter) {
        var actions = new ArrayList<Action>();
        Instant cutoff = observed.now().minus(downAfter);
        var nodes = new HashMap<String, NodeRow>();
        for (NodeRow node : observed.nodes()) {
            nodes.put(node.id(), node);
            if (!node.down() && node.heartbeatAt().isBefore(cutoff)) {
                actions.add(new Action.MarkDown(node.id(), cutoff));
            }
        }
        for (MachineRow m : observed.unplaced()) {
            if (m.nodeId() == null && m.desiredState() == MachineState.RUNNING) {
                actions.add(new Action.Schedule(new Placements.Job.Place(m, observed.strategy(m))));
            }
        }
        var stops = new ArrayList<Action>();
        for (MachineRow m : observed.onDraining()) {
            NodeRow node = m.nodeId() == null ? null : nodes.get(m.nodeId());
            if (node == null || node.adminState() != NodeState.DRAINING || m.deleted()) continue;
            if (m.moves() && !m.spec().mounts().isEmpty()) {
                actions.add(new Action.MoveVolume(m));
            } else if (m.moves()) {
                actions.add(new Action.Schedule(new Placements.Job.Move(m, node.id(), observed.strategy(m))));
            } else if (m.desiredState() == MachineState.RUNNING) {
                stops.add(new Action.Stop(m));
            }
        }
        actions.addAll(stops);
        for (FleetSize f : observed.sized()) {
            actions.addAll(f.deployment().isPresent() ? Deploys.step(f, f.deployment().get(), observed.now())
                    : resize(f));
        }
        return actions;
    }

    /**
     * What brings fleet {@code f} to its count: machines to create, or the ones to delete — those doing least first
     * (without a node, then failed or stopped, then running), the newest first among equals.
     */
    static List<Action> resize(FleetSize f) {
        int have = f.machines().size();
        if (have < f.count()) return List.of(new Action.Grow(f.namespace(), f.fleet(), f.count() - have));
        if (have == f.count()) return List.of();
        var order = new ArrayList<>(f.machines());
        java.util.Collections.reverse(order); // newest first, kept among equals by the stable sort below
        order.sort(java.util.Comparator.comparingInt(Reconciler::usefulness));
        return order.subList(0, have - f.count()).stream().<Action>map(Action.Shrink::new).toList();
    }

    /** How much a machine serves now: 0 without a node, 1 not meant to run or failed, 2 otherwise. */
    static int usefulness(MachineRow m) {
        if (m.nodeId() == null) return 0;
        if (m.desiredState() != MachineState.RUNNING || m.observedState() == MachineState.FAILED
                || m.observedState() == MachineState.STOPPED) {
            return 1;
        }
        return 2;
    }

    /** What happens to each of {@code machines}, the machines of lost node {@code nodeId}. */
    static List<Eviction> lost(String nodeId, List<MachineRow> machines) {
        var out = new ArrayList<Eviction>(machines.size());
        for (MachineRow m : machines) {
            if (m.deleted()) {
                out.add(new Eviction.Release(m.id()));
            } else if (m.moves()) {
                out.add(new Eviction.Requeue(m.id(), "node " + nodeId + " was lost; awaiting a node"));
            } else {
                out.add(new Eviction.Fail(m.id(), "node " + nodeId + " was lost (restart policy no)"));
            }
        }
        return out;
    }

    /** The key of a machine's fleet in {@link Observed#strategies()}. */
    static String fleetKey(MachineRow machine) {
        return machine.namespace() + "/" + machine.fleet();
    }
}
