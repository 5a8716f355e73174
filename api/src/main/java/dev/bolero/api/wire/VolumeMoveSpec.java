package dev.bolero.api.wire;

/**
 * Body of {@code POST /v1/namespaces/{ns}/volumes/{name}/move}.
 *
 * @param node the node to move it to; null: one the scheduler finds feasible (for its machine, if attached)
 */
public record VolumeMoveSpec(String node) {}
