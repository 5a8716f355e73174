package dev.bolero.api.wire;

import java.util.List;

/**
 * The answer of {@code GET /v1/nodes/{id}/assignments}: every machine the node must have, complete (not a delta).
 * Machines the node has that are absent here must be stopped and destroyed.
 *
 * @param index pass it as {@code ?index=} of the next poll
 */
public record Assignments(long index, List<Assignment> machines) {
    public Assignments {
        machines = List.copyOf(machines);
    }
}
