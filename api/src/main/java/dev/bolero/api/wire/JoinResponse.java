package dev.bolero.api.wire;

/**
 * The answer to a join.
 *
 * @param nodeId the node's id, used in every later path
 * @param credential the node's bearer token, shown once; the agent keeps it in its data directory
 * @param heartbeatIntervalS how often the agent sends a heartbeat
 * @param downAfterS the server marks the node down after this long without a heartbeat, and moves its machines
 * @param fenceAfterS the agent stops every machine after this long without an accepted heartbeat (less than
 *     {@code downAfterS}), so a partitioned node never runs a machine the server has moved
 * @param privateNetwork the address plan and the node's index in it; null when the join carried no
 *     {@code private_network}
 */
public record JoinResponse(String nodeId, String credential, int heartbeatIntervalS, int downAfterS,
                           int fenceAfterS, PrivateNetworkPlan privateNetwork) {}
