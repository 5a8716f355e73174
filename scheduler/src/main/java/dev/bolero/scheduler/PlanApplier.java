package dev.bolero.scheduler;

import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Set;
import java.util.TreeMap;

/**
 * Re-checks a plan against the latest cluster state before it is committed, as the optimistic half of scheduling:
 * the scheduler planned on a snapshot that may be stale, so each placement is checked again against the latest
 * snapshot, in plan order, counting the resources and host ports of the placements of the same plan already accepted.
 * The caller runs this inside the transaction that commits {@link PlanOutcome#committed()} and sends
 * {@link PlanOutcome#rejected()} back to the scheduler. Pure: no I/O, no clock reads.
 */
public final class PlanApplier {

    private PlanApplier() {}

    /** Splits {@code plan} into placements that still fit {@code latest} at {@code now} and placements to retry. */
    public static PlanOutcome apply(ClusterSnapshot latest, Plan plan, Instant now) {
        var committed = new ArrayList<Placement>();
        var rejected = new ArrayList<PlanOutcome.Rejection>();
        var accepted = new HashMap<String, Resources>();
        var acceptedPorts = new HashMap<String, Set<HostPort>>();
        for (Placement placement : plan.placements()) {
            var node = latest.node(placement.nodeId());
            if (node.isEmpty()) {
                rejected.add(reject(placement, "node no longer exists"));
                continue;
            }
            var view = node.get();
            var used = view.allocated().add(accepted.getOrDefault(view.id(), Resources.ZERO));
            var request = placement.request();
            var published = acceptedPorts.getOrDefault(view.id(), Set.of());
            var taken = request.ports().stream()
                    .filter(port -> view.ports().contains(port) || published.contains(port)).sorted().toList();
            String problem = switch (Feasibility.check(view, request, now, used.cpus(), used.memoryMb(),
                    !taken.isEmpty())) {
                case FITS -> null;
                case OTHER_NODE -> "the machine must run on node " + request.node().orElseThrow();
                case OUT_OF_REGION -> "node is no longer in region " + request.region().orElseThrow();
                case NO_DRIVER -> "node no longer runs driver " + request.driver().orElseThrow().wireName();
                case NO_LABELS -> "node no longer has labels " + new TreeMap<>(request.nodeLabels());
                case DOWN, CORDONED, DRAINING -> "node is " + view.state().wireName();
                case HEARTBEAT_EXPIRED -> "node is past its heartbeat deadline " + view.heartbeatExpires();
                case NO_CAPACITY -> "node has " + free(view.capacity(), used).describe() + " free, needs "
                        + request.resources().describe();
                case PORT_TAKEN -> "node already has " + String.join(" and ", taken.stream().map(HostPort::describe)
                        .toList()) + " in use";
            };
            if (problem != null) {
                rejected.add(reject(placement, problem));
                continue;
            }
            committed.add(placement);
            accepted.merge(view.id(), request.resources(), Resources::add);
            if (!request.ports().isEmpty()) {
                acceptedPorts.computeIfAbsent(view.id(), id -> new HashSet<>()).addAll(request.ports());
            }
        }
        return new PlanOutcome(latest.index(), committed, rejected);
    }

    private static PlanOutcome.Rejection reject(Placement placement, String problem) {
        return new PlanOutcome.Rejection(placement,
                "place " + placement.machineId() + " on " + placement.nodeId() + ": " + problem);
    }

    private static Resources free(Resources capacity, Resources used) {
        return new Resources(Math.max(0, capacity.cpus() - used.cpus()),
                Math.max(0, capacity.memoryMb() - used.memoryMb()));
    }
}
