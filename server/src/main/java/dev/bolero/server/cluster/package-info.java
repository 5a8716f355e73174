/**
 * The control plane's behaviour over the store: tokens, the node protocol's bookkeeping, the pure
 * {@link dev.bolero.server.cluster.Reconciler} (desired and actual state in, actions out) and the leader's loop that
 * carries its actions out, and {@link dev.bolero.server.cluster.Placements}, the one place machines are placed: in
 * group-committed batches through the scheduler's {@code planAll} and the plan applier.
 */
package dev.bolero.server.cluster;
