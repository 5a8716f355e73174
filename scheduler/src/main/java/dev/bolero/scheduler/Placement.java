package dev.bolero.scheduler;

import java.util.Objects;

/**
 * One machine the scheduler proposes to put on one node.
 *
 * @param machineId the machine being placed
 * @param nodeId the node it goes on
 * @param request what the machine asked for, re-checked when the plan is applied
 */
public record Placement(String machineId, String nodeId, PlacementRequest request) {
    public Placement {
        Objects.requireNonNull(machineId, "placement: machineId");
        Objects.requireNonNull(nodeId, "placement " + machineId + ": nodeId");
        Objects.requireNonNull(request, "placement " + machineId + ": request");
    }
}
