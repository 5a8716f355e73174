package dev.bolero.server.cluster;

import dev.bolero.api.wire.DeployStatus;
import dev.bolero.api.wire.DeployStep;
import dev.bolero.api.wire.Deployment;
import dev.bolero.api.wire.FleetScale;
import dev.bolero.api.wire.FleetStrategy;
import dev.bolero.core.MachineState;
import dev.bolero.core.NodeState;
import dev.bolero.scheduler.NodeView;
import dev.bolero.server.store.MachineRow;
import dev.bolero.server.store.NodeRow;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;

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
     * @param sized the fleets with a {@code count} or {@code counts}, each with its live machines (deleted ones left
     *     out)
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
     * A fleet that keeps a size, and the machines it has.
     *
     * @param scale how many machines it keeps, and where
     * @param machines its machines not deleted, oldest first
     * @param nodeRegions the region of each node that is in one, by node id: a machine that asked for no region is in
     *     its node's ({@link #regionOf})
     * @param deployment its active deployment, which {@link Deploys} drives instead of a plain resize
     */
    record FleetSize(String namespace, String fleet, FleetScale scale, List<MachineRow> machines,
                     Map<String, String> nodeRegions, Optional<Deployment> deployment) {
        FleetSize {
            Objects.requireNonNull(scale, "fleet size: scale");
            machines = List.copyOf(machines);
            nodeRegions = Map.copyOf(nodeRegions);
            Objects.requireNonNull(deployment, "fleet size: deployment");
        }

        /** A fleet keeping {@code count} machines in any region, with active deployment {@code deployment}. */
        FleetSize(String namespace, String fleet, int count, List<MachineRow> machines,
                  Optional<Deployment> deployment) {
            this(namespace, fleet, new FleetScale.Total(count), machines, Map.of(), deployment);
        }

        /** A fleet keeping {@code count} machines in any region, without an active deployment. */
        FleetSize(String namespace, String fleet, int count, List<MachineRow> machines) {
            this(namespace, fleet, count, machines, Optional.empty());
        }

        /** Its machines divided into the shares its scale counts ({@link #shares}). */
        List<Share> shares() {
            return Reconciler.shares(scale, machines, nodeRegions);
        }
    }

    /**
     * One region's share of a fleet that keeps a size: how many machines it should have and the ones it has.
     *
     * @param region the region; empty for machines of no particular region (the whole fleet when it keeps one count)
     * @param machines its machines, oldest first
     */
    record Share(Optional<String> region, int desired, List<MachineRow> machines) {
        Share {
            Objects.requireNonNull(region, "share: region");
            machines = List.copyOf(machines);
        }
    }

    /**
     * {@code machines} (oldest first) divided as {@code scale} counts them: a fleet with one count is one share of no
     * particular region; a fleet with a count per region has a share per region it names (sorted), then one per other
     * region its machines are in (sorted; desired 0), then one of the machines in no region (desired 0) when there are
     * any. A machine is in the region it asked for or, when it asked for none, in its node's ({@code nodeRegions}).
     */
    static List<Share> shares(FleetScale scale, List<MachineRow> machines, Map<String, String> nodeRegions) {
        return switch (scale) {
            case FleetScale.Total total -> List.of(new Share(Optional.empty(), total.count(), machines));
            case FleetScale.PerRegion perRegion -> {
                var named = new LinkedHashMap<String, List<MachineRow>>();
                perRegion.counts().keySet().forEach(r -> named.put(r, new ArrayList<>()));
                var others = new TreeMap<String, List<MachineRow>>();
                var none = new ArrayList<MachineRow>();
                for (MachineRow m : machines) {
                    var region = regionOf(m, nodeRegions);
                    if (region.isEmpty()) {
                        none.add(m);
                    } else {
                        (named.containsKey(region.get()) ? named : others)
                                .computeIfAbsent(region.get(), r -> new ArrayList<>()).add(m);
                    }
                }
                var shares = new ArrayList<Share>();
                named.forEach((r, ms) -> shares.add(new Share(Optional.of(r), perRegion.counts().get(r), ms)));
                others.forEach((r, ms) -> shares.add(new Share(Optional.of(r), 0, ms)));
                if (!none.isEmpty()) shares.add(new Share(Optional.empty(), 0, none));
                yield shares;
            }
        };
    }

    /**
     * The region machine {@code m} is in: the one it asked for or, when it asked for none, the one of its node
     * ({@code nodeRegions}, by node id); empty when neither says.
     */
    static Optional<String> regionOf(MachineRow m, Map<String, String> nodeRegions) {
        if (m.region() != null) return Optional.of(m.region());
        return Optional.ofNullable(m.nodeId()).map(nodeRegions::get);
    }

    /** The region of each node in {@code nodes} that is in one, by node id. */
    static Map<String, String> nodeRegions(List<NodeRow> nodes) {
        var out = new HashMap<String, String>();
        for (NodeRow n : nodes) {
            String region = n.labels().get(NodeView.REGION_LABEL);
            if (region != null) out.put(n.id(), region);
        }
        return out;
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

        /**
         * A fleet's share below its count: create {@code missing} machines from the fleet's config, in
         * {@code region} (empty: wherever the fleet's machines may go).
         */
        record Grow(String namespace, String fleet, Optional<String> region, int missing) implements Action {
            public Grow {
                Objects.requireNonNull(region, "grow: region");
            }

            /** Create {@code missing} machines wherever the fleet's machines may go. */
            public Grow(String namespace, String fleet, int missing) {
                this(namespace, fleet, Optional.empty(), missing);
            }
        }

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
     * What brings each share of fleet {@code f} (each region, {@link FleetSize#shares}) to its count: machines to
     * create in that region, or the share's ones to delete ({@link #leastUseful}); a share's changes never touch
     * another's machines.
     */
    static List<Action> resize(FleetSize f) {
        var actions = new ArrayList<Action>();
        for (Share share : f.shares()) {
            int have = share.machines().size();
            if (have < share.desired()) {
                actions.add(new Action.Grow(f.namespace(), f.fleet(), share.region(), share.desired() - have));
            } else if (have > share.desired()) {
                leastUseful(share.machines(), have - share.desired()).forEach(m -> actions.add(new Action.Shrink(m)));
            }
        }
        return actions;
    }

    /**
     * The {@code n} of {@code machines} (oldest first) that a shrink deletes: those doing least first (without a
     * node, then failed or stopped, then running), the newest first among equals.
     */
    static List<MachineRow> leastUseful(List<MachineRow> machines, int n) {
        var order = new ArrayList<>(machines);
        java.util.Collections.reverse(order); // newest first, kept among equals by the stable sort below
        order.sort(java.util.Comparator.comparingInt(Reconciler::usefulness));
        return List.copyOf(order.subList(0, n));
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
