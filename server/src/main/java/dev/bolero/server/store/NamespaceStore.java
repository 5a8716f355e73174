package dev.bolero.server.store;

import dev.bolero.api.wire.Namespace;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/** Namespaces, in one {@link Tx}. */
public final class NamespaceStore {
    private final Statements sql;

    NamespaceStore(Statements sql) {
        this.sql = sql;
    }

    /** Inserts a namespace; a duplicate is a unique violation. */
    public void insert(String name, Instant now) throws SQLException {
        sql.update("INSERT INTO namespaces (name, created_at) VALUES (?,?)", name, now.toEpochMilli());
    }

    public Optional<Namespace> get(String name) throws SQLException {
        return sql.one("SELECT name, created_at FROM namespaces WHERE name = ?", NamespaceStore::namespace, name);
    }

    public List<Namespace> list() throws SQLException {
        return sql.all("SELECT name, created_at FROM namespaces ORDER BY name", NamespaceStore::namespace);
    }

    /** One page of the namespaces, by name. */
    public List<Namespace> list(Page page) throws SQLException {
        return sql.all("SELECT name, created_at FROM namespaces WHERE " + Page.sql("name"), NamespaceStore::namespace,
                page.args());
    }

    private static Namespace namespace(ResultSet rs) throws SQLException {
        return new Namespace(rs.getString(1), Instant.ofEpochMilli(rs.getLong(2)));
    }
}
