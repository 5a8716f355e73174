package dev.bolero.api.wire;

import java.util.List;

/**
 * The answer of {@code GET /v1/nodes/{id}/assignments}: every machine the node must have, complete (not a delta).
 * Machines the node has that are absent here must be stopped and destroyed.
 *
 * @param index pass it as {@code ?index=} of the next poll
 * @param streams the control plane's requests for bytes from this node's machines (logs, events, exec) not yet
 *     answered; the agent answers each once (see {@link StreamRequest})
 */
public record Assignments(long index, List<Assignment> machines, List<StreamRequest> streams) {
    public Assignments {
        machines = List.copyOf(machines);
        streams = streams == null ? List.of() : List.copyOf(streams);
    }

    /** Assignments without stream requests. */
    public Assignments(long index, List<Assignment> machines) {
        this(index, machines, List.of());
    }
}
