package dev.bolero.server.store;

import dev.bolero.api.wire.AuditEntry;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The audit log's entries, in one {@link Tx}: appended, never changed. A chain is a namespace's name, or {@code ""}
 * for the cluster's own objects.
 */
public final class AuditStore {
    private static final String ENTRY = "SELECT seq, at, token_id, namespace, action, object, status, source, hash "
            + "FROM audit WHERE chain = ?";

    private final Statements sql;

    AuditStore(Statements sql) {
        this.sql = sql;
    }

    /** The chain's last entry: its seq and hash; empty for a chain without entries. Queued ({@link Later}). */
    public Later<Optional<AuditEntry>> last(String chain) throws SQLException {
        return sql.later(ENTRY + " ORDER BY seq DESC LIMIT 1", AuditStore::entry, chain)
                .map(rows -> rows.stream().findFirst());
    }

    /** An entry to append to {@code chain}. */
    public record Appended(String chain, AuditEntry entry) {}

    /**
     * Appends the entries, in order, in one statement queued to go with the transaction's next ({@link
     * Statements#deferRows}); a seq already taken in its chain (a concurrent append) is a unique violation, there.
     */
    public void append(List<Appended> entries) throws SQLException {
        var rows = new ArrayList<Object[]>(entries.size());
        for (Appended a : entries) {
            AuditEntry e = a.entry();
            rows.add(new Object[] {a.chain(), e.seq(), e.time().toEpochMilli(), e.tokenId(), e.namespace(), e.action(),
                e.object(), e.status(), e.source(), e.hash()});
        }
        sql.deferRows("INSERT INTO audit (chain, seq, at, token_id, namespace, action, object, status, source, hash) "
                + "VALUES (?,?,?,?,?,?,?,?,?,?)", rows);
    }

    /**
     * At most {@code limit} entries of {@code chain} after seq {@code after}, in order, restricted to the filter's
     * time range and action when it has them.
     */
    public List<AuditEntry> list(String chain, long after, Filter filter, int limit) throws SQLException {
        var query = new StringBuilder(ENTRY).append(" AND seq > ?");
        var args = new ArrayList<Object>(List.of(chain, after));
        filter.since().ifPresent(t -> {
            query.append(" AND at >= ?");
            args.add(t.toEpochMilli());
        });
        filter.until().ifPresent(t -> {
            query.append(" AND at < ?");
            args.add(t.toEpochMilli());
        });
        filter.action().ifPresent(a -> {
            query.append(" AND action = ?");
            args.add(a);
        });
        query.append(" ORDER BY seq LIMIT ?");
        args.add(limit);
        return sql.all(query.toString(), AuditStore::entry, args.toArray());
    }

    /** Which entries a list returns: those from {@code since} (inclusive) until {@code until} (exclusive), of one action. */
    public record Filter(Optional<Instant> since, Optional<Instant> until, Optional<String> action) {
        public static final Filter ALL = new Filter(Optional.empty(), Optional.empty(), Optional.empty());
    }

    private static AuditEntry entry(ResultSet rs) throws SQLException {
        return new AuditEntry(rs.getLong(1), Instant.ofEpochMilli(rs.getLong(2)), rs.getString(3), rs.getString(4),
                rs.getString(5), rs.getString(6), rs.getInt(7), rs.getString(8), rs.getString(9));
    }
}
