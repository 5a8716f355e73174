/**
 * The agent's side of the cluster protocol ({@code docs/cluster-protocol.md}): join with a join token, keep the node
 * credential in {@code DATA_DIR/node.json}, long-poll assignments and reconcile the node's machines to them, send
 * heartbeats with capacity and observed states, and fence (stop every machine) when heartbeats stop being accepted.
 * The agent opens every connection; the server never connects to a node.
 */
package dev.bolero.agent.cluster;
