package dev.bolero.server.http;

/**
 * A replica's status ({@code GET /v1/status}).
 *
 * @param replica the replica's name
 * @param leader whether it runs the cluster's singleton loops now
 * @param index the store's change index
 */
public record ServerStatus(String replica, boolean leader, long index) {}
