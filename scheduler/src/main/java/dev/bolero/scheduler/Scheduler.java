package dev.bolero.scheduler;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The placement function: a cluster snapshot, a request and the time in; a node or a reasoned refusal out.
 *
 * <p>A node is feasible when it is in the requested region, runs the requested driver, carries every requested
 * label, is {@link NodeState#READY}, its heartbeat deadline is after {@code now}, the request fits beside its
 * allocations within its capacity, and none of the host ports the request publishes is in use on it (by its machines
 * or, in {@link #planAll}, by the requests placed before). Feasible nodes are ranked by: fewest machines of the
 * request's fleet (when it names one), then the strategy's score (the mean CPU/memory fill after placement for
 * bin-packing, one minus that for spreading), then a hash of the node id seeded with {@code seed}, then the node id.
 * The result depends on nothing else: no I/O, no clock, no shared state; the same snapshot, requests, {@code now} and
 * seed give the same decisions.
 */
public final class Scheduler {

    private Scheduler() {}

    /** Decides where one machine goes. Never throws for an unplaceable request: that is a {@code Refused}. */
    public static PlacementDecision plan(ClusterSnapshot snapshot, PlacementRequest request, Instant now, long seed) {
        Objects.requireNonNull(request, "plan: request");
        return new Placer(Objects.requireNonNull(snapshot, "plan: snapshot"), Objects.requireNonNull(now, "plan: now"),
                seed).place(request, false);
    }

    /**
     * Decides where each of {@code requests} goes, in order, each seeing the allocations of those placed before it.
     *
     * @return one decision per request, in the same order
     */
    public static List<PlacementDecision> planAll(ClusterSnapshot snapshot, List<PlacementRequest> requests,
                                                  Instant now, long seed) {
        var placer = new Placer(Objects.requireNonNull(snapshot, "plan: snapshot"),
                Objects.requireNonNull(now, "plan: now"), seed);
        var decisions = new ArrayList<PlacementDecision>(requests.size());
        for (PlacementRequest request : requests) {
            decisions.add(placer.place(Objects.requireNonNull(request, "plan: request"), true));
        }
        return List.copyOf(decisions);
    }
}
