package dev.bolero.scheduler;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The obvious first scheduler, kept as a test oracle and benchmark baseline: for every request it checks every node
 * record, scores each feasible one, sorts them all and takes the first. It ranks exactly as {@link Scheduler} does
 * (same filters, same score, same tie-break), so both must agree on every placement; its refusals carry no reason.
 */
public final class ReferenceScheduler {

    private ReferenceScheduler() {}

    private record Candidate(NodeView node, int fleetMachines, double score, long tieKey) {}

    /** Places {@code requests} in order, each seeing the ones before, as {@link Scheduler#planAll} does. */
    public static List<PlacementDecision> planAll(ClusterSnapshot snapshot, List<PlacementRequest> requests,
                                                  Instant now, long seed) {
        var added = new HashMap<String, Resources>();
        var addedFleets = new HashMap<String, Map<String, Integer>>();
        var addedPorts = new HashMap<String, Set<HostPort>>();
        var decisions = new ArrayList<PlacementDecision>();
        Comparator<Candidate> ranking = Comparator.comparingInt(Candidate::fleetMachines)
                .thenComparing(Candidate::score, Comparator.reverseOrder())
                .thenComparing(Candidate::tieKey, Long::compareUnsigned)
                .thenComparing(c -> c.node().id());
        for (PlacementRequest request : requests) {
            var candidates = new ArrayList<Candidate>();
            for (NodeView node : snapshot.nodes()) {
                var used = node.allocated().add(added.getOrDefault(node.id(), Resources.ZERO));
                boolean portTaken = !request.ports().isEmpty() && request.ports().stream()
                        .anyMatch(port -> node.ports().contains(port)
                                || addedPorts.getOrDefault(node.id(), Set.of()).contains(port));
                if (Feasibility.check(node, request, now, used.cpus(), used.memoryMb(), portTaken)
                        != Feasibility.Verdict.FITS) {
                    continue;
                }
                int fleetMachines = request.fleet().map(fleet -> node.fleetMachines().getOrDefault(fleet, 0)
                        + addedFleets.getOrDefault(node.id(), Map.of()).getOrDefault(fleet, 0)).orElse(0);
                var after = used.add(request.resources());
                double score = Scoring.score(request.strategy() == Strategy.BINPACK,
                        after.cpus(), Scoring.inverse(node.capacity().cpus()),
                        after.memoryMb(), Scoring.inverse(node.capacity().memoryMb()));
                candidates.add(new Candidate(node, fleetMachines, score, Scoring.tieKey(seed, Scoring.idHash(node.id()))));
            }
            candidates.sort(ranking);
            if (candidates.isEmpty()) {
                decisions.add(new PlacementDecision.Refused("no feasible node"));
                continue;
            }
            var best = candidates.getFirst();
            added.merge(best.node().id(), request.resources(), Resources::add);
            addedPorts.computeIfAbsent(best.node().id(), id -> new HashSet<>()).addAll(request.ports());
            request.fleet().ifPresent(fleet ->
                    addedFleets.computeIfAbsent(best.node().id(), id -> new HashMap<>()).merge(fleet, 1, Integer::sum));
            decisions.add(new PlacementDecision.Placed(best.node().id(), best.score()));
        }
        return decisions;
    }
}
