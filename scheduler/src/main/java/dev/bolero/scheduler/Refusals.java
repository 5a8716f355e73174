package dev.bolero.scheduler;

import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.TreeMap;

/** Builds the sentence of a refusal from the filter that eliminated each node. */
final class Refusals {

    private Refusals() {}

    /**
     * Explains why no node takes {@code request}, counting {@code usedCpu}/{@code usedMem} (by position) as allocated
     * and the positions set in {@code taken} (null: none) as having a port of the request in use. For example
     * {@code no node has 4 vCPUs and 8192 MiB free in region eu (12 nodes in region eu: 9 lack capacity, 3 cordoned)}.
     */
    static String explain(ClusterSnapshot snapshot, int[] usedCpu, long[] usedMem, long[] taken,
                          PlacementRequest request, Instant now) {
        var eliminated = new EnumMap<Feasibility.Verdict, Integer>(Feasibility.Verdict.class);
        for (int p = 0; p < snapshot.views.length; p++) {
            eliminated.merge(Feasibility.check(snapshot.views[p], request, now, usedCpu[p], usedMem[p],
                    Placer.marked(taken, p)), 1, Integer::sum);
        }
        int population = snapshot.views.length - eliminated.getOrDefault(Feasibility.Verdict.OUT_OF_REGION, 0)
                - eliminated.getOrDefault(Feasibility.Verdict.OTHER_NODE, 0);
        var text = new StringBuilder("no node has ").append(request.describeNeeds()).append(" free")
                .append(request.describeConstraints()).append(" (");
        if (population == 0) {
            if (request.node().isPresent()) {
                text.append("node ").append(request.node().get()).append(" is not in the cluster");
                request.region().ifPresent(r -> text.append(" or not in region ").append(r));
            } else if (request.region().isPresent()) {
                text.append("no nodes in region ").append(request.region().get());
                if (!snapshot.regions.isEmpty()) {
                    text.append("; regions: ").append(String.join(", ", snapshot.regions));
                }
            } else {
                text.append("cluster has no nodes");
            }
            return text.append(')').toString();
        }
        text.append(population).append(population == 1 ? " node" : " nodes");
        request.region().ifPresent(r -> text.append(" in region ").append(r));
        var parts = new ArrayList<String>();
        eliminated.forEach((verdict, count) -> {
            String part = switch (verdict) {
                case OTHER_NODE, OUT_OF_REGION, FITS -> null;
                case NO_DRIVER -> lack(count) + " driver " + request.driver().orElseThrow().wireName();
                case NO_LABELS -> lack(count) + " labels " + new TreeMap<>(request.nodeLabels());
                case DOWN -> count + " down";
                case CORDONED -> count + " cordoned";
                case DRAINING -> count + " draining";
                case HEARTBEAT_EXPIRED -> count + " past their heartbeat deadline";
                case NO_CAPACITY -> lack(count) + " capacity";
                case PORT_TAKEN -> count + (count == 1 ? " has " : " have ") + request.describePorts(" or ")
                        + " in use";
            };
            if (part != null) {
                parts.add(part);
            }
        });
        return text.append(": ").append(String.join(", ", parts)).append(')').toString();
    }

    private static String lack(int count) {
        return count + (count == 1 ? " lacks" : " lack");
    }
}
