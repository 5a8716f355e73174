/**
 * The control plane ({@code bolero server}): {@link dev.bolero.server.Server} serves the {@code /v1} API and the node
 * protocol over a SQLite or PostgreSQL store.
 */
package dev.bolero.server;
