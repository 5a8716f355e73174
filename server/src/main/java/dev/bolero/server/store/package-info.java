/**
 * The control plane's state over plain JDBC: SQLite (WAL; one writing connection, four reading ones) or PostgreSQL
 * (HikariCP pool), schema migrated by Flyway at open. {@link dev.bolero.server.store.ServerStore} runs transactions;
 * each {@link dev.bolero.server.store.Tx} offers one store per aggregate (tokens, namespaces, fleets, nodes, machines,
 * allocations, streams) over its connection.
 */
package dev.bolero.server.store;
