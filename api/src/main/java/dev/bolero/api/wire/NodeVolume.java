package dev.bolero.api.wire;

/**
 * A volume living on a node, as its assignments list it: the node keeps its data in a file named after {@code id},
 * grows the file to {@code sizeGb} GiB when that grew, and attaches it to the node's machine of {@code namespace}
 * whose {@code config.mounts} names {@code name}.
 */
public record NodeVolume(String id, String namespace, String name, int sizeGb) {}
