package dev.bolero.server.store;

import java.sql.SQLException;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * The gateways registered in the private network's mesh, in one {@link Tx} (table {@code gateway_peers}, V34).
 */
public final class GatewayPeerStore {
    private static final String COLUMNS = "SELECT id, public_key, endpoint, address_index, expires_at FROM gateway_peers ";

    private final Statements sql;

    GatewayPeerStore(Statements sql) {
        this.sql = sql;
    }

    /**
     * A registered gateway.
     *
     * @param addressIndex the index of its address in the plan's infrastructure range
     * @param expiresAt when its lease ends unless renewed
     */
    public record Row(String id, String publicKey, String endpoint, int addressIndex, Instant expiresAt) {
        public Row {
            Objects.requireNonNull(id, "id");
            Objects.requireNonNull(publicKey, "publicKey");
            Objects.requireNonNull(endpoint, "endpoint");
            Objects.requireNonNull(expiresAt, "expiresAt");
        }
    }

    /** Every registered gateway, expired or not, by address index. */
    public List<Row> all() throws SQLException {
        return sql.all(COLUMNS + "ORDER BY address_index", GatewayPeerStore::row);
    }

    /** The gateway registered with {@code publicKey}, if any. */
    public Optional<Row> byKey(String publicKey) throws SQLException {
        return sql.one(COLUMNS + "WHERE public_key = ?", GatewayPeerStore::row, publicKey);
    }

    /** Inserts {@code row}, or updates the endpoint, address and lease of the row with its id. */
    public void put(Row row) throws SQLException {
        if (sql.update("UPDATE gateway_peers SET endpoint = ?, address_index = ?, expires_at = ? WHERE id = ?",
                row.endpoint(), row.addressIndex(), row.expiresAt().toEpochMilli(), row.id()) == 0) {
            sql.update("INSERT INTO gateway_peers (id, public_key, endpoint, address_index, expires_at) VALUES (?,?,?,?,?)",
                    row.id(), row.publicKey(), row.endpoint(), row.addressIndex(), row.expiresAt().toEpochMilli());
        }
    }

    /** Deletes the gateway {@code id}; whether it was there. */
    public boolean delete(String id) throws SQLException {
        return sql.update("DELETE FROM gateway_peers WHERE id = ?", id) > 0;
    }

    /** Deletes the gateways whose lease ended before {@code now}; how many. */
    public int deleteExpired(Instant now) throws SQLException {
        return sql.update("DELETE FROM gateway_peers WHERE expires_at < ?", now.toEpochMilli());
    }

    private static Row row(java.sql.ResultSet rs) throws SQLException {
        return new Row(rs.getString(1), rs.getString(2), rs.getString(3), rs.getInt(4), Instant.ofEpochMilli(rs.getLong(5)));
    }
}
