package dev.bolero.scheduler;

import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.TreeMap;

/**
 * Re-checks a plan against the latest cluster state before it is committed, as the optimistic half of scheduling:
 * the scheduler planned on a snapshot that may be stale, so each placement is checked again against the latest
 * snapshot, in plan order, counting the placements of the same plan already accepted. The caller runs this inside the
 * transaction that commits {@link PlanOutcome#committed()} and sends {@link PlanOutcome#rejected()} back to the
 * scheduler. Pure: no I/O, no clock reads.
 */
public final class PlanApplier {

    private PlanApplier() {}

    /** Splits {@code plan} into placements that still fit {@code latest} at {@code now} and placements to retry. */
    public static PlanOutcome apply(ClusterSnapshot latest, Plan plan, Instant now) {
        var committed = new ArrayList<Placement>();
        var rejected = new ArrayList<PlanOutcome.Rejection>();
        var accepted = new HashMap<String, Resources>();
        for (Placement placement : plan.placements()) {
            var node = latest.node(placement.nodeId());
            if (node.isEmpty()) {
                rejected.add(reject(placement, "node no longer exists"));
                continue;
            }
            var view = node.get();
            var used = view.allocated().add(accepted.getOrDefault(view.id(), Resources.ZERO));
            var request = placement.request();
            String problem = switch (Feasibility.check(view, request, now, used.cpus(), used.memoryMb())) {
                case FITS -> null;
                case OUT_OF_REGION -> "node is no longer in region " + request.region().orElseThrow();
                case NO_DRIVER -> "node no longer runs driver " + request.driver().orElseThrow().wireName();
                case NO_LABELS -> "node no longer has labels " + new TreeMap<>(request.nodeLabels());
                case DOWN, CORDONED, DRAINING -> "node is " + view.state().wireName();
                case HEARTBEAT_EXPIRED -> "node is past its heartbeat deadline " + view.heartbeatExpires();
                case NO_CAPACITY -> "node has " + free(view.capacity(), used).describe() + " free, needs "
                        + request.resources().describe();
            };
            if (problem != null) {
                rejected.add(reject(placement, problem));
                continue;
            }
            committed.add(placement);
            accepted.merge(view.id(), request.resources(), Resources::add);
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
