package dev.bolero.api.wire;

import dev.bolero.core.NodeState;

/**
 * The answer to a heartbeat.
 *
 * @param index the node's current assignment index; poll assignments when it is newer than the one applied
 * @param state the node's state as the server sees it ({@code ready}, {@code cordoned} or {@code draining})
 */
public record HeartbeatResponse(long index, NodeState state) {}
