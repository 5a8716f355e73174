package dev.bolero.scheduler;

import java.time.Instant;
import java.util.Map;
import java.util.Set;

/**
 * The filters a node must pass to take a machine, in the order a refusal attributes eliminations: constraints the
 * node can never meet (the one node the request is pinned to, region, driver, labels), then its state, then its heartbeat, then its free capacity, then its
 * free host ports.
 */
final class Feasibility {

    /** The first filter a node fails, or {@link #FITS}. */
    enum Verdict {
        OTHER_NODE, OUT_OF_REGION, NO_DRIVER, NO_LABELS, DOWN, CORDONED, DRAINING, HEARTBEAT_EXPIRED, NO_CAPACITY, PORT_TAKEN, FITS
    }

    private Feasibility() {}

    /**
     * Checks {@code node} for {@code request} at {@code now}, counting {@code usedCpu}/{@code usedMem} as allocated;
     * {@code portTaken} says whether a port the request publishes is in use on the node.
     */
    static Verdict check(NodeView node, PlacementRequest request, Instant now, long usedCpu, long usedMem,
                         boolean portTaken) {
        if (request.node().isPresent() && !request.node().get().equals(node.id())) {
            return Verdict.OTHER_NODE;
        }
        Verdict constraints = constraints(node.labels(), node.drivers(), request);
        if (constraints != Verdict.FITS) {
            return constraints;
        }
        return switch (node.state()) {
            case DOWN -> Verdict.DOWN;
            case CORDONED -> Verdict.CORDONED;
            case DRAINING -> Verdict.DRAINING;
            case READY -> {
                if (!now.isBefore(node.heartbeatExpires())) {
                    yield Verdict.HEARTBEAT_EXPIRED;
                }
                if (!fits(usedCpu, node.capacity().cpus(), usedMem, node.capacity().memoryMb(), request.resources())) {
                    yield Verdict.NO_CAPACITY;
                }
                yield portTaken ? Verdict.PORT_TAKEN : Verdict.FITS;
            }
        };
    }

    /**
     * The constraints a node's labels and drivers meet or fail, whatever its state and load; the request's
     * {@link PlacementRequest#node()} is not among them (it is checked by {@link #check}).
     */
    static Verdict constraints(Map<String, String> labels, Set<Driver> drivers, PlacementRequest request) {
        if (request.region().isPresent() && !request.region().get().equals(labels.get(NodeView.REGION_LABEL))) {
            return Verdict.OUT_OF_REGION;
        }
        if (request.driver().isPresent() && !drivers.contains(request.driver().get())) {
            return Verdict.NO_DRIVER;
        }
        for (var wanted : request.nodeLabels().entrySet()) {
            if (!wanted.getValue().equals(labels.get(wanted.getKey()))) {
                return Verdict.NO_LABELS;
            }
        }
        return Verdict.FITS;
    }

    /** Whether {@code demand} fits beside {@code usedCpu}/{@code usedMem} within the capacity. */
    static boolean fits(long usedCpu, long capCpu, long usedMem, long capMem, Resources demand) {
        return usedCpu + demand.cpus() <= capCpu && usedMem + demand.memoryMb() <= capMem;
    }
}
