package dev.bolero.api.wire;

import dev.bolero.api.ApiException;

/**
 * A snapshot a node must copy, as its assignments list it: the node pulls the snapshot's blocks from the control plane
 * ({@code GET /v1/nodes/{id}/snapshot-copies/{copy}/blocks}, relayed from the node that took it, in the volume move's
 * block stream), writes and verifies its copy, keeps it as {@code <snapshot id>.ext4} and reports
 * ({@code POST /v1/nodes/{id}/snapshot-copies/{copy}}). Once verified the snapshot is listed in
 * {@link Assignments#snapshots()} instead.
 *
 * @param copy the copy's id (a new one for each attempt)
 * @param snapshotId the snapshot's id (its file on the node is named after it)
 */
public record SnapshotCopyOrder(String copy, String snapshotId) {
    public SnapshotCopyOrder {
        if (copy == null || copy.isBlank()) throw ApiException.invalid("snapshot copy order: copy is required");
        if (snapshotId == null || snapshotId.isBlank()) {
            throw ApiException.invalid("snapshot copy order " + copy + ": snapshot_id is required");
        }
    }
}
