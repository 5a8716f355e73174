package dev.bolero.server.cluster;

import dev.bolero.api.ApiException;
import dev.bolero.scheduler.ClusterSnapshot;
import dev.bolero.scheduler.Driver;
import dev.bolero.scheduler.HostPort;
import dev.bolero.scheduler.NodeState;
import dev.bolero.scheduler.NodeView;
import dev.bolero.scheduler.Plan;
import dev.bolero.scheduler.PlacementDecision;
import dev.bolero.scheduler.PlacementRequest;
import dev.bolero.scheduler.Placement;
import dev.bolero.scheduler.PlanApplier;
import dev.bolero.scheduler.Scheduler;
import dev.bolero.scheduler.Resources;
import dev.bolero.scheduler.Strategy;
import dev.bolero.server.store.MachineRow;
import dev.bolero.server.store.NodeRow;
import dev.bolero.server.store.ServerStore;
import dev.bolero.server.store.Tx;
import dev.bolero.api.wire.FleetStrategy;
import dev.bolero.core.MachineSpec;
import java.security.SecureRandom;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Optimistic placement: the scheduler plans on a snapshot read from the store, then, inside one serialised write
 * transaction, the plan applier re-checks the chosen node against the latest state and the caller's commit runs; a
 * rejected plan is planned again on a newer snapshot, up to {@value #ATTEMPTS} times.
 */
final class Placements {
    static final int ATTEMPTS = 5;

    private final ServerStore store;
    private final Clock clock;
    private final Duration downAfter;
    private final SecureRandom seeds = new SecureRandom();

    Placements(ServerStore store, Clock clock, Duration downAfter) {
        this.store = store;
        this.clock = clock;
        this.downAfter = downAfter;
    }

    /** The outcome of placing one machine. */
    sealed interface Result {
        /** Committed on {@code nodeId}. */
        record Placed(String nodeId) implements Result {}

        /** No node can take it; {@code reason} is the scheduler's or the applier's sentence. */
        record Refused(String reason) implements Result {}

        /** The commit found the machine changed meanwhile and did nothing. */
        record Skipped() implements Result {}
    }

    /** Writes the placement of the machine on {@code nodeId}; returns false when the machine changed meanwhile. */
    @FunctionalInterface
    interface Commit {
        boolean apply(Tx tx, String nodeId) throws SQLException;
    }

    /** Places a machine asking {@code request}, committing with {@code commit}. */
    Result place(String action, String machineId, PlacementRequest request, Commit commit) {
        String lastRejection = null;
        for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
            Instant now = clock.instant();
            ClusterSnapshot snapshot = store.read(action, this::snapshot);
            var decision = Scheduler.plan(snapshot, request, now, seeds.nextLong());
            String nodeId;
            switch (decision) {
                case PlacementDecision.Refused refused -> {
                    return new Result.Refused(refused.reason());
                }
                case PlacementDecision.Placed placed -> nodeId = placed.nodeId();
            }
            var plan = new Plan(snapshot.index(),
                    java.util.List.of(new Placement(machineId, nodeId, request)));
            Result result = store.write(action, tx -> {
                // The applier re-checks only the plan's node, so only that node is read inside the serialised write.
                var outcome = PlanApplier.apply(snapshotOf(tx, nodeId), plan, clock.instant());
                if (!outcome.rejected().isEmpty()) return new Result.Refused(outcome.rejected().getFirst().reason());
                return commit.apply(tx, nodeId) ? new Result.Placed(nodeId) : new Result.Skipped();
            });
            if (!(result instanceof Result.Refused refused)) return result;
            lastRejection = refused.reason();
        }
        return new Result.Refused(lastRejection + " (still conflicting after " + ATTEMPTS + " attempts)");
    }

    /** What the scheduler is asked for {@code machine}, whose fleet places with {@code strategy}. */
    static PlacementRequest request(MachineRow machine, FleetStrategy strategy) {
        var driver = Optional.ofNullable(machine.spec().driver()).map(Placements::driver);
        return switch (strategy) {
            case SPREAD -> new PlacementRequest(new Resources(machine.cpus(), machine.memoryMb()),
                    Optional.ofNullable(machine.region()), machine.nodeLabels(), driver, Strategy.SPREAD,
                    Optional.of(machine.namespace() + "/" + machine.fleet()), hostPorts(machine.spec().services()));
            case BINPACK -> new PlacementRequest(new Resources(machine.cpus(), machine.memoryMb()),
                    Optional.ofNullable(machine.region()), machine.nodeLabels(), driver, Strategy.BINPACK,
                    Optional.empty(), hostPorts(machine.spec().services()));
        };
    }

    /** The scheduler's name for a driver: its own enum, constant for constant. */
    private static Driver driver(dev.bolero.core.Driver driver) {
        return Driver.valueOf(driver.name());
    }

    /** The cluster as the scheduler sees it, read in {@code tx}. */
    ClusterSnapshot snapshot(Tx tx) throws SQLException {
        long index = tx.currentIndex();
        var allocations = tx.allocations();
        var fleets = tx.fleetCounts();
        var ports = tx.publishedPorts();
        var views = new ArrayList<NodeView>();
        for (var node : tx.nodes()) {
            views.add(view(node, allocations.get(node.id()), fleets.getOrDefault(node.id(), Map.of()),
                    ports.getOrDefault(node.id(), List.of())));
        }
        return ClusterSnapshot.of(index, views);
    }

    /** The cluster reduced to one node (none when it no longer exists), read in {@code tx}. */
    private ClusterSnapshot snapshotOf(Tx tx, String nodeId) throws SQLException {
        long index = tx.currentIndex();
        var node = tx.node(nodeId);
        if (node.isEmpty()) return ClusterSnapshot.of(index, java.util.List.of());
        return ClusterSnapshot.of(index, java.util.List.of(view(node.get(), tx.allocation(nodeId).orElse(null),
                tx.fleetCounts(nodeId), tx.publishedPorts(nodeId))));
    }

    private NodeView view(NodeRow node, Tx.Allocation allocation, Map<String, Integer> fleets,
                          List<MachineSpec.Service> ports) {
        var drivers = new java.util.HashSet<Driver>();
        for (var d : node.drivers()) drivers.add(driver(d));
        return new NodeView(node.id(), NodeState.valueOf(node.state().name()), node.labels(), drivers,
                new Resources(node.capacity().cpus(), node.capacity().memoryMb()),
                allocation == null ? Resources.ZERO : new Resources(allocation.cpus(), allocation.memoryMb()),
                fleets, node.heartbeatAt().plus(downAfter), hostPorts(ports));
    }

    /** The host ports {@code services} publish, as the scheduler compares them on a node. */
    private static Set<HostPort> hostPorts(List<MachineSpec.Service> services) {
        var ports = new HashSet<HostPort>();
        for (MachineSpec.Service s : services) ports.add(new HostPort(HostPort.Protocol.parse(s.protocol()), s.port()));
        return ports;
    }

    /** The refusal as the API's error: {@code failed_precondition} naming the action. */
    static ApiException refused(String action, Result.Refused refused) {
        return ApiException.failedPrecondition(action + ": " + refused.reason());
    }
}
