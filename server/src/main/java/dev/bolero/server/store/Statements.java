package dev.bolero.server.store;

import dev.bolero.api.ApiJson;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import tools.jackson.core.type.TypeReference;
import tools.jackson.databind.json.JsonMapper;

/**
 * Statement plumbing shared by the aggregate stores of one {@link Tx}: binds arguments, runs one statement or a JDBC
 * batch (one round trip for many rows), and maps rows. Not thread-safe, as its connection.
 */
final class Statements {
    static final JsonMapper JSON = ApiJson.mapper();

    private final Connection c;

    Statements(Connection c) {
        this.c = c;
    }

    /** Maps the current row of a result set. */
    @FunctionalInterface
    interface Reader<T> {
        T read(ResultSet rs) throws SQLException;
    }

    int update(String sql, Object... args) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            bind(ps, args);
            return ps.executeUpdate();
        }
    }

    /** Runs {@code sql} once per argument list, as one JDBC batch. */
    void batch(String sql, List<Object[]> rows) throws SQLException {
        if (rows.isEmpty()) return;
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            for (Object[] args : rows) {
                bind(ps, args);
                ps.addBatch();
            }
            ps.executeBatch();
        }
    }

    <T> Optional<T> one(String sql, Reader<T> reader, Object... args) throws SQLException {
        List<T> rows = all(sql, reader, args);
        return rows.isEmpty() ? Optional.empty() : Optional.of(rows.getFirst());
    }

    <T> List<T> all(String sql, Reader<T> reader, Object... args) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            bind(ps, args);
            var out = new ArrayList<T>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) out.add(reader.read(rs));
            }
            return out;
        }
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
