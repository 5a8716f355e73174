/**
 * Wire records of the control plane's {@code /v1} API: the public API (namespaces, tokens, fleets, machines, nodes)
 * and the node protocol (join, assignments, heartbeat) described in {@code docs/cluster-protocol.md}. JSON through
 * {@link dev.bolero.api.ApiJson}: snake_case, unknown fields rejected. Values validate in their constructors and throw
 * {@link dev.bolero.api.ApiException} ({@code invalid_argument}).
 */
package dev.bolero.api.wire;
