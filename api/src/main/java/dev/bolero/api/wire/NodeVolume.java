package dev.bolero.api.wire;

import java.util.List;

/**
 * A volume living on a node, as its assignments list it: the node keeps its data in a file named after {@code id},
 * grows the file to {@code sizeGb} GiB when that grew, and attaches it to the node's machine of {@code namespace}
 * whose {@code config.mounts} names {@code name}.
 *
 * @param source the snapshot (on this node) whose copy the volume starts as; null: a new, empty file system
 * @param snapshots the volume's snapshots, by id: the node keeps a copy of the volume's data for each, made when it
 *     first sees it (the volume is detached then), and removes the copies of those no longer listed
 */
public record NodeVolume(String id, String namespace, String name, int sizeGb, String source, List<String> snapshots) {
    public NodeVolume {
        snapshots = snapshots == null ? List.of() : List.copyOf(snapshots);
    }
}
