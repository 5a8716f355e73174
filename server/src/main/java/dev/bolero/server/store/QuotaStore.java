package dev.bolero.server.store;

import dev.bolero.api.wire.Quota;
import dev.bolero.api.wire.QuotaUsage;
import dev.bolero.core.MachineState;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.Optional;

/**
 * Namespaces' quotas and what they hold, in one {@link Tx}. Usage is counted from the machines and volumes rows (two
 * statements), so it is exact inside the write transaction that checks it: write transactions serialise on the state
 * index ({@link ServerStore#write}).
 */
public final class QuotaStore {
    private static final String LIVE = "desired_state <> " + Statements.literal(MachineState.DESTROYED.wireName());
    /** A quota's limits, the columns {@link #quota} reads, of {@code namespace_quotas} as {@code q}. */
    static final String LIMITS = "q.machines, q.vcpus, q.memory_mib, q.volumes, q.volume_gib";

    private final Statements sql;

    QuotaStore(Statements sql) {
        this.sql = sql;
    }

    /** The namespace's quota; empty when none was set (unlimited). */
    public Optional<Quota> get(String namespace) throws SQLException {
        return sql.one("SELECT " + LIMITS + " FROM namespace_quotas q WHERE q.namespace = ?", rs -> quota(rs, 1),
                namespace);
    }

    /** The quota in the {@link #LIMITS} columns of {@code rs} from column {@code first} on. */
    static Quota quota(ResultSet rs, int first) throws SQLException {
        return new Quota(integer(rs, first), integer(rs, first + 1), integer(rs, first + 2), integer(rs, first + 3),
                integer(rs, first + 4));
    }

    /** Sets the namespace's quota, replacing every limit. */
    public void put(String namespace, Quota quota, Instant now) throws SQLException {
        sql.update("INSERT INTO namespace_quotas (namespace, machines, vcpus, memory_mib, volumes, volume_gib, "
                + "updated_at) VALUES (?,?,?,?,?,?,?) ON CONFLICT (namespace) DO UPDATE SET machines = "
                + "excluded.machines, vcpus = excluded.vcpus, memory_mib = excluded.memory_mib, volumes = "
                + "excluded.volumes, volume_gib = excluded.volume_gib, updated_at = excluded.updated_at",
                namespace, quota.machines(), quota.vcpus(), quota.memoryMib(), quota.volumes(), quota.volumeGib(),
                now.toEpochMilli());
    }

    /** What the namespace holds: its live machines and its volumes. */
    public QuotaUsage usage(String namespace) throws SQLException {
        QuotaUsage machines = sql.one("SELECT COUNT(*), COALESCE(SUM(cpus), 0), COALESCE(SUM(memory_mb), 0) "
                + "FROM machines WHERE namespace = ? AND " + LIVE, QuotaStore::machines, namespace).orElseThrow();
        QuotaUsage volumes = sql.one("SELECT COUNT(*), COALESCE(SUM(size_gb), 0) FROM volumes WHERE namespace = ?",
                rs -> QuotaUsage.volumes(rs.getLong(1), rs.getLong(2)), namespace).orElseThrow();
        return machines.plus(volumes);
    }

    /** What the fleet's live machines hold. */
    public QuotaUsage usage(String namespace, String fleet) throws SQLException {
        return sql.one("SELECT COUNT(*), COALESCE(SUM(cpus), 0), COALESCE(SUM(memory_mb), 0) FROM machines "
                + "WHERE namespace = ? AND fleet = ? AND " + LIVE, QuotaStore::machines, namespace, fleet)
                .orElseThrow();
    }

    private static QuotaUsage machines(ResultSet rs) throws SQLException {
        return new QuotaUsage(rs.getLong(1), rs.getLong(2), rs.getLong(3), 0, 0);
    }

    private static Integer integer(ResultSet rs, int column) throws SQLException {
        int value = rs.getInt(column);
        return rs.wasNull() ? null : value;
    }
}
