package dev.bolero.server.store;

import dev.bolero.api.ApiJson;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import tools.jackson.core.type.TypeReference;
import tools.jackson.databind.json.JsonMapper;

/**
 * Statement plumbing shared by the aggregate stores of one {@link Tx}: binds arguments, runs one statement or a JDBC
 * batch (one round trip for many rows), and maps rows. Statements are prepared once per connection when it has a
 * {@link Cache}. Not thread-safe, as its connection.
 */
final class Statements {
    static final JsonMapper JSON = ApiJson.mapper();

    private final Connection c;
    private final Optional<Cache> cache;
    private final boolean postgres;

    /** @param postgres whether {@code c} is a PostgreSQL connection (else SQLite) */
    Statements(Connection c, Optional<Cache> cache, boolean postgres) {
        this.c = c;
        this.cache = cache;
        this.postgres = postgres;
    }

    /** Whether the connection is PostgreSQL's (several servers may write at once), not SQLite's. */
    boolean postgres() {
        return postgres;
    }

    /**
     * Prepared statements kept open on one long-lived connection (SQLite's), by SQL text, at most {@value #MAX}: the
     * least recently used is closed beyond that. Guarded by whoever owns the connection.
     */
    static final class Cache implements AutoCloseable {
        private static final int MAX = 256;
        private final LinkedHashMap<String, PreparedStatement> open = new LinkedHashMap<>(64, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, PreparedStatement> eldest) {
                if (size() <= MAX) return false;
                closeQuietly(eldest.getValue());
                return true;
            }
        };

        private PreparedStatement prepare(Connection c, String sql) throws SQLException {
            PreparedStatement ps = open.get(sql);
            if (ps == null) {
                ps = c.prepareStatement(sql);
                open.put(sql, ps);
            }
            return ps;
        }

        @Override
        public void close() {
            open.values().forEach(Cache::closeQuietly);
            open.clear();
        }

        private static void closeQuietly(PreparedStatement ps) {
            try {
                ps.close();
            } catch (SQLException e) {
                // closing a statement of a connection that is going away
            }
        }
    }

    /** A prepared statement of {@code sql}: the cached one, or a new one to close after use. */
    private PreparedStatement prepare(String sql) throws SQLException {
        return cache.isPresent() ? cache.get().prepare(c, sql) : c.prepareStatement(sql);
    }

    /** Ends a use of {@code ps}: a cached statement stays open with its parameters cleared. */
    private void release(PreparedStatement ps) throws SQLException {
        if (cache.isPresent()) {
            ps.clearParameters();
            ps.clearBatch();
        } else {
            ps.close();
        }
    }

    /** Maps the current row of a result set. */
    @FunctionalInterface
    interface Reader<T> {
        T read(ResultSet rs) throws SQLException;
    }

    int update(String sql, Object... args) throws SQLException {
        PreparedStatement ps = prepare(sql);
        try {
            bind(ps, args);
            return ps.executeUpdate();
        } finally {
            release(ps);
        }
    }

    /** Runs {@code sql} once per argument list, as one JDBC batch. */
    void batch(String sql, List<Object[]> rows) throws SQLException {
        if (rows.isEmpty()) return;
        PreparedStatement ps = prepare(sql);
        try {
            for (Object[] args : rows) {
                bind(ps, args);
                ps.addBatch();
            }
            ps.executeBatch();
        } finally {
            release(ps);
        }
    }

    <T> Optional<T> one(String sql, Reader<T> reader, Object... args) throws SQLException {
        List<T> rows = all(sql, reader, args);
        return rows.isEmpty() ? Optional.empty() : Optional.of(rows.getFirst());
    }

    <T> List<T> all(String sql, Reader<T> reader, Object... args) throws SQLException {
        return all(sql, false, reader, args);
    }

    /**
     * {@link #all}, except that PostgreSQL plans it for its arguments each time rather than keeping one plan per
     * connection: for a statement whose best plan changes as its table grows. A plan kept from a new cluster's first
     * statistics (a nearly empty table) stays until the table is analyzed again, up to autovacuum's minute later; for
     * the name check of a create that was a scan of every machine of the namespace instead of one index lookup per
     * name, milliseconds on a namespace of thousands. Planning it costs a fraction of that.
     */
    <T> List<T> allPlannedEachTime(String sql, Reader<T> reader, Object... args) throws SQLException {
        return all(sql, postgres, reader, args);
    }

    private <T> List<T> all(String sql, boolean planEachTime, Reader<T> reader, Object... args) throws SQLException {
        PreparedStatement ps = prepare(sql);
        try {
            // Never a server-side prepared statement: PostgreSQL plans an unnamed one for its parameters each time.
            if (planEachTime) ps.unwrap(org.postgresql.PGStatement.class).setPrepareThreshold(0);
            bind(ps, args);
            var out = new ArrayList<T>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) out.add(reader.read(rs));
            }
            return out;
        } finally {
            release(ps);
        }
    }

    /** The rows of {@code select}, which ends in a column, whose column is one of {@code values}; none when empty. */
    <T> List<T> in(String select, Reader<T> reader, Collection<String> values) throws SQLException {
        if (values.isEmpty()) return List.of();
        return all(select + " IN " + placeholders(values), reader, values.toArray());
    }

    /** {@code (?,?,…)} with one placeholder per element of {@code values}, which must not be empty. */
    static String placeholders(Collection<?> values) {
        if (values.isEmpty()) throw new IllegalArgumentException("placeholders: no values");
        return "(" + "?,".repeat(values.size() - 1) + "?)";
    }

    /** A value as an SQL string literal; only for the fixed state names the statements compare with. */
    static String literal(String value) {
        return "'" + value + "'";
    }

    private static void bind(PreparedStatement ps, Object[] args) throws SQLException {
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case null -> ps.setNull(i + 1, Types.NULL);
                case String s -> ps.setString(i + 1, s);
                case Integer n -> ps.setInt(i + 1, n);
                case Long n -> ps.setLong(i + 1, n);
                default -> throw new IllegalArgumentException("bind: unsupported " + args[i].getClass());
            }
        }
    }

    /** Whether {@code e} is a unique-constraint violation, on SQLite or PostgreSQL. */
    static boolean uniqueViolation(SQLException e) {
        return "23505".equals(e.getSQLState())
                || (e.getMessage() != null && e.getMessage().contains("UNIQUE constraint failed"));
    }

    /**
     * Whether {@code e} is PostgreSQL's deadlock ({@code 40P01}) or serialization failure ({@code 40001}): the
     * transaction was rolled back and succeeds when run again.
     */
    static boolean transientFailure(SQLException e) {
        return "40P01".equals(e.getSQLState()) || "40001".equals(e.getSQLState());
    }

    /**
     * JSON texts by their value, bounded: cleared when it holds more than {@value #MAX} values. For immutable values
     * with value equality (records of lists, maps and records) that many rows repeat, such as the machines of one
     * fleet's config: an equal value's text is written once.
     */
    static final class TextCache<T> {
        private static final int MAX = 4096;
        private final ConcurrentHashMap<T, String> texts = new ConcurrentHashMap<>();

        String text(T value) {
            String text = texts.get(value);
            if (text != null) return text;
            if (texts.size() >= MAX) texts.clear();
            text = JSON.writeValueAsString(value);
            texts.put(value, text);
            return text;
        }
    }

    /** Parsed JSON values by their text, bounded: cleared when it holds more than {@value #MAX} texts. */
    static final class ParseCache<T> {
        private static final int MAX = 4096;
        private final TypeReference<T> type;
        private final ConcurrentHashMap<String, T> parsed = new ConcurrentHashMap<>();

        ParseCache(TypeReference<T> type) {
            this.type = type;
        }

        T parse(String json) {
            T value = parsed.get(json);
            if (value != null) return value;
            if (parsed.size() >= MAX) parsed.clear();
            value = JSON.readValue(json, type);
            parsed.put(json, value);
            return value;
        }
    }
}
