package dev.bolero.server.store;

import java.sql.SQLException;
import java.time.Instant;
import java.util.Optional;

/** Bearer credentials, stored as the hex SHA-256 of their token, in one {@link Tx}. */
public final class TokenStore {
    private final Statements sql;

    TokenStore(Statements sql) {
        this.sql = sql;
    }

    /** Inserts a credential. */
    public void insert(String id, String hash, String scope, String namespace, String nodeId, Instant now)
            throws SQLException {
        sql.update("INSERT INTO tokens (id, hash, scope, namespace, node_id, created_at) VALUES (?,?,?,?,?,?)",
                id, hash, scope, namespace, nodeId, now.toEpochMilli());
    }

    /** Inserts the credential with this fixed id unless one exists; whether it was inserted. */
    public boolean insertIfAbsent(String id, String hash, String scope, Instant now) throws SQLException {
        return sql.update("INSERT INTO tokens (id, hash, scope, created_at) VALUES (?,?,?,?) "
                + "ON CONFLICT (id) DO NOTHING", id, hash, scope, now.toEpochMilli()) > 0;
    }

    /** Sets the credential with this fixed id, replacing any. */
    public void put(String id, String hash, String scope, Instant now) throws SQLException {
        sql.update("INSERT INTO tokens (id, hash, scope, created_at) VALUES (?,?,?,?) "
                + "ON CONFLICT (id) DO UPDATE SET hash = excluded.hash", id, hash, scope, now.toEpochMilli());
    }

    /** The credential whose token hashes to {@code hash}. */
    public Optional<TokenRow> find(String hash) throws SQLException {
        return sql.one("SELECT id, scope, namespace, node_id FROM tokens WHERE hash = ?",
                rs -> new TokenRow(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4)), hash);
    }
}
