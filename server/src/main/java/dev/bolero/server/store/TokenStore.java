package dev.bolero.server.store;

import dev.bolero.api.wire.TokenInfo;
import dev.bolero.api.wire.TokenRole;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/** Bearer credentials, stored as the hex SHA-256 of their token, in one {@link Tx}. */
public final class TokenStore {
    private final Statements sql;

    TokenStore(Statements sql) {
        this.sql = sql;
    }

    /** Inserts a node's credential. */
    public void insertNode(String id, String hash, String nodeId, Instant now) throws SQLException {
        sql.update("INSERT INTO tokens (id, hash, scope, node_id, created_at) VALUES (?,?,?,?,?)",
                id, hash, TokenScope.NODE.wireName(), nodeId, now.toEpochMilli());
    }

    /** Inserts a namespace token. */
    public void insertNamespace(String id, String hash, String namespace, TokenRole role, Optional<Instant> expiresAt,
                                String description, Instant now) throws SQLException {
        sql.update("INSERT INTO tokens (id, hash, scope, namespace, role, expires_at, description, created_at) "
                        + "VALUES (?,?,?,?,?,?,?,?)", id, hash, TokenScope.NAMESPACE.wireName(), namespace,
                role.wireName(), expiresAt.map(Instant::toEpochMilli).orElse(null), description, now.toEpochMilli());
    }

    /** Inserts the credential with this fixed id unless one exists; whether it was inserted. */
    public boolean insertIfAbsent(String id, String hash, TokenScope scope, Instant now) throws SQLException {
        return sql.update("INSERT INTO tokens (id, hash, scope, created_at) VALUES (?,?,?,?) "
                + "ON CONFLICT (id) DO NOTHING", id, hash, scope.wireName(), now.toEpochMilli()) > 0;
    }

    /** Sets the credential with this fixed id, replacing any. */
    public void put(String id, String hash, TokenScope scope, Instant now) throws SQLException {
        sql.update("INSERT INTO tokens (id, hash, scope, created_at) VALUES (?,?,?,?) "
                + "ON CONFLICT (id) DO UPDATE SET hash = excluded.hash", id, hash, scope.wireName(), now.toEpochMilli());
    }

    /** The credential whose token hashes to {@code hash}. */
    public Optional<TokenRow> find(String hash) throws SQLException {
        return Optional.ofNullable(find(List.of(hash)).get(hash));
    }

    /** The credentials whose tokens hash to one of {@code hashes}, by hash; hashes with none are left out. */
    public Map<String, TokenRow> find(Collection<String> hashes) throws SQLException {
        var found = new HashMap<String, TokenRow>();
        sql.in("SELECT hash, id, scope, namespace, node_id, role, expires_at FROM tokens WHERE hash",
                rs -> found.put(rs.getString(1), new TokenRow(rs.getString(2), TokenScope.parse(rs.getString(3)),
                        rs.getString(4), rs.getString(5), role(rs.getString(6)), epoch(rs, 7))), hashes);
        return found;
    }

    /** One page of the namespace's tokens, by id. */
    public List<TokenInfo> list(String namespace, Page page) throws SQLException {
        return sql.all("SELECT id, role, description, created_at, expires_at FROM tokens WHERE scope = ? "
                + "AND namespace = ? AND " + Page.sql("id"), rs -> new TokenInfo(rs.getString(1),
                role(rs.getString(2)), rs.getString(3), Instant.ofEpochMilli(rs.getLong(4)), epoch(rs, 5)
                .orElse(null)), page.args(TokenScope.NAMESPACE.wireName(), namespace));
    }

    /** Deletes the namespace's token {@code id}; whether it existed there. */
    public boolean delete(String namespace, String id) throws SQLException {
        return sql.update("DELETE FROM tokens WHERE scope = ? AND namespace = ? AND id = ?",
                TokenScope.NAMESPACE.wireName(), namespace, id) > 0;
    }

    private static TokenRole role(String wireName) {
        return wireName == null ? null : TokenRole.valueOf(wireName.toUpperCase(Locale.ROOT));
    }

    private static Optional<Instant> epoch(ResultSet rs, int column) throws SQLException {
        long millis = rs.getLong(column);
        return rs.wasNull() ? Optional.empty() : Optional.of(Instant.ofEpochMilli(millis));
    }
}
