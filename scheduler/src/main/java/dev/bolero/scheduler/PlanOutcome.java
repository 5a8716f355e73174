package dev.bolero.scheduler;

import java.util.List;
import java.util.Objects;

/**
 * What survived the re-check of a plan against the latest state.
 *
 * @param snapshotIndex the index of the snapshot the plan was checked against
 * @param committed placements that still fit, in plan order; commit them together
 * @param rejected placements to schedule again against a newer snapshot, each with why
 */
public record PlanOutcome(long snapshotIndex, List<Placement> committed, List<Rejection> rejected) {

    public PlanOutcome {
        committed = List.copyOf(committed);
        rejected = List.copyOf(rejected);
    }

    /**
     * A placement the latest state no longer allows.
     *
     * @param placement the proposed placement
     * @param reason what changed, e.g. {@code place m-1 on n-7: node is cordoned}
     */
    public record Rejection(Placement placement, String reason) {
        public Rejection {
            Objects.requireNonNull(placement, "rejection: placement");
            Objects.requireNonNull(reason, "rejection: reason");
        }
    }
}
