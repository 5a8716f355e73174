package dev.bolero.api.wire;

/**
 * The cluster's private-network address plan and the joining node's place in it, in a join answer
 * ({@code "private_network"}): addresses are {@code pool | node | namespace | host} (see
 * {@code docs/private-network.md}). The plan is the same for every node; the node index is fixed for the node's life.
 *
 * @param pool the block every private address comes from, e.g. {@code 10.0.0.0/8}
 * @param nodeBits how many bits of an address name its node
 * @param namespaceBits how many bits name its namespace
 * @param nodeIndex the joining node's index
 */
public record PrivateNetworkPlan(String pool, int nodeBits, int namespaceBits, int nodeIndex) {}
