package dev.bolero.api.wire;

import java.time.Instant;

/**
 * A volume as the API shows it: a block device that outlives machines, on one node at a time.
 *
 * @param id its id, unique in the cluster (its file on the node is named after it)
 * @param name its name in the namespace
 * @param sizeGb its size in GiB
 * @param region the region its node must be in; null: any
 * @param nodeId the node it lives on; null until the first machine mounting it is placed
 * @param machineId the machine it is attached to (deleted ones included until their node confirms them gone); null
 *     when detached
 */
public record Volume(String id, String name, int sizeGb, String region, String nodeId, String machineId,
                     Instant createdAt, Instant updatedAt) {}
