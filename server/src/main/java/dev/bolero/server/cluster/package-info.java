/**
 * The control plane's behaviour over the store: tokens, placement through the scheduler and the plan applier, the
 * node protocol's bookkeeping, and the singleton loops (node loss, drain, re-placement) run by the leader.
 */
package dev.bolero.server.cluster;
