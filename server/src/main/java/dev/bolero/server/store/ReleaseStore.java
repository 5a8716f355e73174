package dev.bolero.server.store;

import static dev.bolero.server.store.Statements.JSON;

import dev.bolero.api.wire.Release;
import dev.bolero.core.MachineSpec;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

/** Releases: each version of a fleet's machine config, in one {@link Tx}. */
public final class ReleaseStore {
    private static final String SELECT = "SELECT r.version, r.config, r.created_at, f.config_version FROM releases r "
            + "JOIN fleets f ON f.namespace = r.namespace AND f.name = r.fleet WHERE r.namespace = ? AND r.fleet = ?";

    private final Statements sql;

    ReleaseStore(Statements sql) {
        this.sql = sql;
    }

    /** Records release {@code version} of the fleet, made of {@code config} (null: no machine config). */
    public void insert(String namespace, String fleet, long version, MachineSpec.Overlay config, Instant now)
            throws SQLException {
        sql.update("INSERT INTO releases (namespace, fleet, version, config, created_at) VALUES (?,?,?,?,?)",
                namespace, fleet, version, JSON.writeValueAsString(config), now.toEpochMilli());
    }

    /**
     * One page of the fleet's releases, newest first: those older than version {@code before} (all when empty), at most
     * {@code limit} of them.
     */
    public List<Release> list(String namespace, String fleet, OptionalLong before, int limit) throws SQLException {
        return sql.all(SELECT + " AND r.version < ? ORDER BY r.version DESC LIMIT ?", ReleaseStore::release, namespace,
                fleet, before.orElse(Long.MAX_VALUE), limit);
    }

    /** Release {@code version} of the fleet. */
    public Optional<Release> get(String namespace, String fleet, long version) throws SQLException {
        return sql.one(SELECT + " AND r.version = ?", ReleaseStore::release, namespace, fleet, version);
    }

    /** The fleet's newest version; 0 when it has none. */
    public long newest(String namespace, String fleet) throws SQLException {
        return sql.one("SELECT MAX(version) FROM releases WHERE namespace = ? AND fleet = ?", rs -> rs.getLong(1),
                namespace, fleet).orElse(0L);
    }

    private static Release release(ResultSet rs) throws SQLException {
        long version = rs.getLong(1);
        return new Release(version, JSON.readValue(rs.getString(2), MachineSpec.Overlay.class),
                Instant.ofEpochMilli(rs.getLong(3)), version == rs.getLong(4));
    }
}
