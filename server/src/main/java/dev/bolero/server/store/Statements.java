package dev.bolero.server.store;

import dev.bolero.api.ApiJson;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.StringJoiner;
import java.util.concurrent.ConcurrentHashMap;
import tools.jackson.core.type.TypeReference;
import tools.jackson.databind.json.JsonMapper;

/**
 * Statement plumbing shared by the aggregate stores of one {@link Tx}: binds arguments, runs one statement or a JDBC
 * batch (one round trip for many rows), and maps rows. On PostgreSQL, statements may be queued ({@link #later},
 * {@link #defer}) to go with the next one in the same round trip. Statements are prepared once per connection when it
 * has a {@link Cache}. Not thread-safe, as its connection.
 */
final class Statements {
    static final JsonMapper JSON = ApiJson.mapper();

    private final Connection c;
    private final Optional<Cache> cache;
    private final boolean postgres;
    /** Statements queued on PostgreSQL to go together ({@link #send}), in order. */
    private final List<Queued> queued = new ArrayList<>();

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
        if (postgres) {
            Queued q = queue(sql, null, args);
            send();
            return q.count;
        }
        PreparedStatement ps = prepare(sql);
        try {
            bind(ps, args);
            return ps.executeUpdate();
        } finally {
            release(ps);
        }
    }

    /** Runs {@code sql} once per argument list, as one JDBC batch, after the queued statements. */
    void batch(String sql, List<Object[]> rows) throws SQLException {
        if (rows.isEmpty()) return;
        send();
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

    /** The rows of {@code sql}; on PostgreSQL sent with the queued statements, in the same round trip. */
    <T> List<T> all(String sql, Reader<T> reader, Object... args) throws SQLException {
        if (postgres) return later(sql, reader, args).get();
        PreparedStatement ps = prepare(sql);
        try {
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

    /**
     * The rows of {@code sql} later ({@link Later}): on PostgreSQL the statement is queued and goes with the others
     * queued, in one round trip, when a result is asked for or a statement runs at once; on SQLite (in the process,
     * no round trip to save) it runs now.
     */
    @SuppressWarnings("unchecked")
    <T> Later<List<T>> later(String sql, Reader<T> reader, Object... args) throws SQLException {
        if (!postgres) return Later.of(all(sql, reader, args));
        Queued q = queue(sql, reader, args);
        return () -> {
            if (q.state == Queued.State.QUEUED) send();
            if (q.state == Queued.State.FAILED) throw new SQLException("not run: a statement sent with it failed");
            return (List<T>) q.rows;
        };
    }

    /**
     * A write whose count no one needs: on PostgreSQL queued to go with the next statement sent, at the transaction's
     * end at the latest ({@link #send}); a failure surfaces there. On SQLite it runs now.
     */
    void defer(String sql, Object... args) throws SQLException {
        if (postgres) queue(sql, null, args);
        else update(sql, args);
    }

    /**
     * {@code insert}, an {@code INSERT … VALUES (…)} of one row, for each of {@code rows}: on PostgreSQL one
     * multi-row statement (PostgreSQL's work per statement, not per row, is most of an insert's) queued as {@link
     * #defer} does; on SQLite one JDBC batch now.
     */
    void deferRows(String insert, List<Object[]> rows) throws SQLException {
        if (rows.isEmpty()) return;
        if (!postgres) {
            batch(insert, rows);
            return;
        }
        int values = insert.lastIndexOf(" VALUES (");
        if (values < 0 || !insert.endsWith(")")) {
            throw new IllegalArgumentException("deferRows: not an INSERT of one VALUES row: " + insert);
        }
        String row = insert.substring(values + " VALUES ".length());
        var args = new ArrayList<Object>();
        for (Object[] r : rows) Collections.addAll(args, r);
        queue(insert.substring(0, values) + " VALUES " + String.join(",", Collections.nCopies(rows.size(), row)),
                null, args.toArray());
    }

    /** A queued statement: a read's rows ({@code reader} not null) or a write's count, once sent. */
    private static final class Queued {
        enum State { QUEUED, SENT, FAILED }

        final String sql;
        final Reader<?> reader;
        final Object[] args;
        final List<Object> rows = new ArrayList<>();
        int count;
        State state = State.QUEUED;

        Queued(String sql, Reader<?> reader, Object[] args) {
            this.sql = sql;
            this.reader = reader;
            this.args = args;
        }
    }

    private Queued queue(String sql, Reader<?> reader, Object[] args) {
        var q = new Queued(sql, reader, args);
        queued.add(q);
        return q;
    }

    /**
     * Sends the queued statements, in order: one alone, several as one statement text of them all (PostgreSQL runs
     * them in turn, in one round trip, and stops at the first that fails; outside a transaction they commit together).
     * A failure fails every statement sent with it: its error is thrown here, and their {@link Later}s throw.
     */
    void send() throws SQLException {
        if (queued.isEmpty()) return;
        var sending = List.copyOf(queued);
        queued.clear();
        var text = new StringJoiner(";\n");
        var args = new ArrayList<Object>();
        for (Queued q : sending) {
            text.add(q.sql);
            Collections.addAll(args, q.args);
        }
        try {
            PreparedStatement ps = prepare(text.toString());
            try {
                bind(ps, args.toArray());
                boolean rows = ps.execute();
                for (int i = 0; ; ) {
                    Queued q = sending.get(i);
                    if (q.reader != null) {
                        if (!rows) throw new SQLException("no rows returned by " + q.sql);
                        try (ResultSet rs = ps.getResultSet()) {
                            while (rs.next()) q.rows.add(q.reader.read(rs));
                        }
                    } else {
                        q.count = rows ? 0 : ps.getUpdateCount();
                    }
                    q.state = Queued.State.SENT;
                    if (++i == sending.size()) break;
                    rows = ps.getMoreResults();
                }
            } finally {
                release(ps);
            }
        } catch (SQLException | RuntimeException e) {
            for (Queued q : sending) {
                if (q.state == Queued.State.QUEUED) q.state = Queued.State.FAILED;
            }
            throw e;
        }
    }

    /**
     * Ends the connection's transaction: on PostgreSQL, when statements are queued, its {@code COMMIT} is sent after
     * them as the last statement of their text, in their round trip (PostgreSQL runs it only if they all succeeded; a
     * failure is thrown here and leaves the transaction to roll back). Otherwise the connection commits on its own.
     * Must be called inside a transaction (autocommit off).
     */
    void commit() throws SQLException {
        if (!queued.isEmpty()) {
            queue("COMMIT", null, new Object[0]);
            send();
        }
        // After a COMMIT sent with the queue the driver knows no transaction is open, and commits nothing again; its
        // pool (HikariCP) still learns that the transaction ended.
        c.commit();
    }

    /** The rows of {@code select}, which ends in a column, whose column is one of {@code values}; none when empty. */
    <T> List<T> in(String select, Reader<T> reader, Collection<String> values) throws SQLException {
        if (values.isEmpty()) return List.of();
        return all(select + " IN " + placeholders(values), reader, values.toArray());
    }

    /** {@link #in}, queued as {@link #later} queues. */
    <T> Later<List<T>> laterIn(String select, Reader<T> reader, Collection<String> values) throws SQLException {
        if (values.isEmpty()) return Later.of(List.of());
        return later(select + " IN " + placeholders(values), reader, values.toArray());
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
