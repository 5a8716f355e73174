package dev.bolero.api.wire;

import dev.bolero.api.ApiException;

/**
 * Body of {@code POST /v1/namespaces/{ns}/volumes/{name}/snapshots} (optional).
 *
 * @param keep retention: once this snapshot is taken, only the volume's newest {@code keep} snapshots (this one
 *     among them) are kept, the older ones deleted with every copy; 1 to {@value #MAX_KEEP}; null: every snapshot is
 *     kept
 */
public record VolumeSnapshotSpec(Integer keep) {
    /** The most snapshots a retention may keep. */
    public static final int MAX_KEEP = 100;

    public VolumeSnapshotSpec {
        if (keep != null && (keep < 1 || keep > MAX_KEEP)) {
            throw ApiException.invalid("keep: must be 1 to " + MAX_KEEP + ", got " + keep);
        }
    }
}
