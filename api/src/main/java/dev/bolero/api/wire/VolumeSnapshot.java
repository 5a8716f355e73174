package dev.bolero.api.wire;

import java.time.Instant;

/**
 * A snapshot of a volume: a copy of its data on its node, taken while it was detached. It can seed a new volume on the
 * same node ({@link VolumeSpec#snapshot()}); it goes when its volume is deleted.
 *
 * @param id its id, unique in the cluster
 * @param volume the name of the volume it was taken of
 * @param sizeGb the volume's size when it was taken
 * @param nodeId the node that keeps it (the volume's)
 */
public record VolumeSnapshot(String id, String volume, int sizeGb, String nodeId, Instant createdAt) {}
