/**
 * The control plane's state over plain JDBC: SQLite (one connection, WAL) or PostgreSQL (HikariCP pool), schema
 * migrated by Flyway at open. {@link dev.bolero.server.store.ServerStore} runs transactions; {@link
 * dev.bolero.server.store.Tx} holds the SQL.
 */
package dev.bolero.server.store;
