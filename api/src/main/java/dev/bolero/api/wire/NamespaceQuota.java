package dev.bolero.api.wire;

/**
 * A namespace's quota and what it holds now: the answer of {@code GET} and {@code PUT /v1/namespaces/{ns}/quota}.
 *
 * @param namespace the namespace
 * @param limits its limits ({@link Quota#UNLIMITED} when none were set)
 * @param usage what it holds, as the limits count it
 */
public record NamespaceQuota(String namespace, Quota limits, QuotaUsage usage) {}
