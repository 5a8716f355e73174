package dev.bolero.server.store;

import dev.bolero.api.wire.SecretInfo;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Optional;

/** Namespaces' wrapped data keys and their secrets' sealed values, in one {@link Tx}. Holds nothing in clear. */
public final class SecretStore {
    private static final String INFO = "SELECT name, version, digest, created_at, updated_at FROM secrets";

    private final Statements sql;

    SecretStore(Statements sql) {
        this.sql = sql;
    }

    /** The namespace's wrapped data key; empty before its first secret. */
    public Optional<byte[]> wrappedKey(String namespace) throws SQLException {
        return sql.one("SELECT wrapped FROM namespace_keys WHERE namespace = ?",
                rs -> Base64.getDecoder().decode(rs.getString(1)), namespace);
    }

    public void insertKey(String namespace, byte[] wrapped, Instant now) throws SQLException {
        sql.update("INSERT INTO namespace_keys (namespace, wrapped, created_at) VALUES (?,?,?)", namespace,
                Base64.getEncoder().encodeToString(wrapped), now.toEpochMilli());
    }

    public void updateKey(String namespace, byte[] wrapped) throws SQLException {
        sql.update("UPDATE namespace_keys SET wrapped = ? WHERE namespace = ?",
                Base64.getEncoder().encodeToString(wrapped), namespace);
    }

    /** Every namespace that has a data key. */
    public List<String> keyedNamespaces() throws SQLException {
        return sql.all("SELECT namespace FROM namespace_keys ORDER BY namespace", rs -> rs.getString(1));
    }

    public Optional<SecretInfo> info(String namespace, String name) throws SQLException {
        return sql.one(INFO + " WHERE namespace = ? AND name = ?", SecretStore::info, namespace, name);
    }

    /** Every secret of the namespace, by name. */
    public List<SecretInfo> list(String namespace) throws SQLException {
        return sql.all(INFO + " WHERE namespace = ? ORDER BY name", SecretStore::info, namespace);
    }

    /** One page of the namespace's secrets, by name. */
    public List<SecretInfo> list(String namespace, Page page) throws SQLException {
        return sql.all(INFO + " WHERE namespace = ? AND " + Page.sql("name"), SecretStore::info, page.args(namespace));
    }

    /** The sealed value of the secret's current version. */
    public Optional<Sealed> sealed(String namespace, String name) throws SQLException {
        return sql.one("SELECT version, sealed FROM secrets WHERE namespace = ? AND name = ?",
                rs -> new Sealed(rs.getLong(1), Base64.getDecoder().decode(rs.getString(2))), namespace, name);
    }

    public void insert(String namespace, String name, byte[] sealed, String digest, Instant now) throws SQLException {
        sql.update("INSERT INTO secrets (namespace, name, version, sealed, digest, created_at, updated_at) "
                + "VALUES (?,?,1,?,?,?,?)", namespace, name, Base64.getEncoder().encodeToString(sealed), digest,
                now.toEpochMilli(), now.toEpochMilli());
    }

    /** Stores version {@code version} (the previous plus one) of an existing secret. */
    public void update(String namespace, String name, long version, byte[] sealed, String digest, Instant now)
            throws SQLException {
        sql.update("UPDATE secrets SET version = ?, sealed = ?, digest = ?, updated_at = ? "
                + "WHERE namespace = ? AND name = ?", version, Base64.getEncoder().encodeToString(sealed), digest,
                now.toEpochMilli(), namespace, name);
    }

    /** Deletes a secret; whether it existed. */
    public boolean delete(String namespace, String name) throws SQLException {
        return sql.update("DELETE FROM secrets WHERE namespace = ? AND name = ?", namespace, name) > 0;
    }

    /** A sealed value and the version it was sealed as. */
    public record Sealed(long version, byte[] value) {}

    private static SecretInfo info(ResultSet rs) throws SQLException {
        return new SecretInfo(rs.getString(1), rs.getLong(2), rs.getString(3), Instant.ofEpochMilli(rs.getLong(4)),
                Instant.ofEpochMilli(rs.getLong(5)));
    }
}
