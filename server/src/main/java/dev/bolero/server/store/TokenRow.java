package dev.bolero.server.store;

/**
 * A stored credential, found by the hash of the bearer token.
 *
 * @param scope {@code admin}, {@code join}, {@code namespace} or {@code node}
 * @param namespace the namespace of a {@code namespace} token, else null
 * @param nodeId the node of a {@code node} credential, else null
 */
public record TokenRow(String id, String scope, String namespace, String nodeId) {}
