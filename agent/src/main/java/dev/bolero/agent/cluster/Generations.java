package dev.bolero.agent.cluster;

import dev.bolero.agent.store.StoreException;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.HashMap;
import java.util.Map;
import org.sqlite.SQLiteConfig;
import org.sqlite.SQLiteDataSource;

/**
 * The assignment generation last applied to each machine, in the agent's store ({@code cluster_generations}, created
 * by the store's migrations), so a restarted agent does not re-apply a desired state it already applied. Cached in
 * memory; writes go through. Thread-safe.
 */
final class Generations implements AutoCloseable {
    private final Connection connection;
    private final Map<String, Long> cache = new HashMap<>();

    Generations(Path database) {
        SQLiteConfig config = new SQLiteConfig();
        config.setBusyTimeout(5_000);
        SQLiteDataSource dataSource = new SQLiteDataSource(config);
        dataSource.setUrl("jdbc:sqlite:" + database);
        try {
            connection = dataSource.getConnection();
            try (PreparedStatement ps = connection.prepareStatement(
                    "SELECT machine_id, generation FROM cluster_generations"); ResultSet rs = ps.executeQuery()) {
                while (rs.next()) cache.put(rs.getString(1), rs.getLong(2));
            }
        } catch (SQLException e) {
            throw new StoreException("open cluster generations in " + database + ": " + e.getMessage(), e);
        }
    }

    /** The generation last applied to {@code id}; 0 when none. */
    synchronized long applied(String id) {
        return cache.getOrDefault(id, 0L);
    }

    synchronized void applied(String id, long generation) {
        if (cache.getOrDefault(id, 0L) == generation) return;
        execute("record generation of machine " + id,
                "INSERT INTO cluster_generations (machine_id, generation) VALUES (?, ?) "
                        + "ON CONFLICT(machine_id) DO UPDATE SET generation = excluded.generation", id, generation);
        cache.put(id, generation);
    }

    synchronized void forget(String id) {
        if (!cache.containsKey(id)) return;
        execute("forget generation of machine " + id, "DELETE FROM cluster_generations WHERE machine_id = ?", id);
        cache.remove(id);
    }

    /** Forgets every machine but {@code kept}: those no longer assigned here nor on this node. */
    synchronized void retain(java.util.Set<String> kept) {
        for (String id : java.util.List.copyOf(cache.keySet())) {
            if (!kept.contains(id)) forget(id);
        }
    }

    private void execute(String action, String sql, Object... args) {
        try (PreparedStatement ps = connection.prepareStatement(sql)) {
            for (int i = 0; i < args.length; i++) ps.setObject(i + 1, args[i]);
            ps.executeUpdate();
        } catch (SQLException e) {
            throw new StoreException(action + ": " + e.getMessage(), e);
        }
    }

    @Override
    public synchronized void close() {
        try {
            connection.close();
        } catch (SQLException e) {
            throw new StoreException("close cluster generations: " + e.getMessage(), e);
        }
    }
}
