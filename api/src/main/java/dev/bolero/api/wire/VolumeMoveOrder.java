package dev.bolero.api.wire;

import dev.bolero.api.ApiException;

/**
 * A volume coming to a node, as the target node's assignments list it while the volume moves there: the node pulls
 * pass {@code pass} of the volume's blocks from the control plane ({@code GET /v1/nodes/{id}/volume-moves/{move}/
 * blocks?pass=N}, relayed from the volume's node), applies it to its incoming copy, verifies it and reports
 * ({@code POST /v1/nodes/{id}/volume-moves/{move}}). A move absent from the assignments is over: a copy it left that
 * its volume does not list is removed.
 *
 * @param move the move's id
 * @param volumeId the volume's id (its file on the node is named after it)
 * @param pass the pass to pull: 1 while the volume's machine runs, then the final one once it is stopped
 */
public record VolumeMoveOrder(String move, String volumeId, int pass) {
    public VolumeMoveOrder {
        if (move == null || move.isBlank()) throw ApiException.invalid("volume move order: move is required");
        if (volumeId == null || volumeId.isBlank()) {
            throw ApiException.invalid("volume move order " + move + ": volume_id is required");
        }
        if (pass < 1) throw ApiException.invalid("volume move order " + move + ": pass must be at least 1");
    }
}
