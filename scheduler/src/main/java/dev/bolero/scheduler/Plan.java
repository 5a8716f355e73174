package dev.bolero.scheduler;

import java.util.HashSet;
import java.util.List;

/**
 * Placements the scheduler proposes, computed against the snapshot at {@code snapshotIndex}.
 *
 * @param snapshotIndex the index of the snapshot the placements were planned on
 * @param placements the proposed placements, each machine at most once
 * @throws IllegalArgumentException from the constructor when a machine appears twice
 */
public record Plan(long snapshotIndex, List<Placement> placements) {
    public Plan {
        placements = List.copyOf(placements);
        var machines = new HashSet<String>();
        for (Placement placement : placements) {
            if (!machines.add(placement.machineId())) {
                throw new IllegalArgumentException("plan at index " + snapshotIndex + ": machine "
                        + placement.machineId() + " placed twice");
            }
        }
    }
}
