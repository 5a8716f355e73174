package dev.bolero.scheduler;

import java.util.Objects;

/** The scheduler's answer for one request: a node, or a reason why no node can take the machine. */
public sealed interface PlacementDecision {

    /**
     * The machine goes on {@code nodeId}.
     *
     * @param nodeId the chosen node
     * @param score how well the node fits under the request's strategy, in [0, 1], higher is better
     */
    record Placed(String nodeId, double score) implements PlacementDecision {
        public Placed {
            Objects.requireNonNull(nodeId, "placed: nodeId");
        }
    }

    /**
     * No node can take the machine.
     *
     * @param reason a sentence naming what was asked and which filters eliminated the nodes, e.g. {@code no node has
     *     4 vCPUs and 8192 MiB free in region eu (12 nodes in region eu: 9 lack capacity, 3 cordoned)}
     */
    record Refused(String reason) implements PlacementDecision {
        public Refused {
            Objects.requireNonNull(reason, "refused: reason");
        }
    }
}
