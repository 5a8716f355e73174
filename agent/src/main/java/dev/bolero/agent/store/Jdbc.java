package dev.bolero.agent.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One SQLite connection used one statement at a time (SQLite serialises writers anyway, and the agent's write rate is
 * a few per second). Every failure is a {@link StoreException} that starts with the action's name.
 */
final class Jdbc implements AutoCloseable {
    /** Sets a statement's parameters. */
    interface Binder {
        void bind(PreparedStatement ps) throws SQLException;
    }

    /** Maps the current row. */
    interface Reader<T> {
        T read(ResultSet rs) throws SQLException;
    }

    private final Connection connection;
    private final String name;
    private final ReentrantLock lock = new ReentrantLock();

    /** @param name what the connection holds, for the close error ({@code store}, {@code network allocations}) */
    Jdbc(Connection connection, String name) {
        this.connection = connection;
        this.name = name;
    }

    void write(String action, String sql, Binder binder) {
        lock.lock();
        try (PreparedStatement ps = connection.prepareStatement(sql)) {
            binder.bind(ps);
            ps.executeUpdate();
        } catch (SQLException e) {
            throw new StoreException(action + ": " + e.getMessage(), e);
        } finally {
            lock.unlock();
        }
    }

    <T> List<T> query(String action, String sql, Binder binder, Reader<T> reader) {
        lock.lock();
        try (PreparedStatement ps = connection.prepareStatement(sql)) {
            binder.bind(ps);
            List<T> out = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) out.add(reader.read(rs));
            }
            return out;
        } catch (SQLException e) {
            throw new StoreException(action + ": " + e.getMessage(), e);
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void close() {
        lock.lock();
        try {
            connection.close();
        } catch (SQLException e) {
            throw new StoreException("close " + name + ": " + e.getMessage(), e);
        } finally {
            lock.unlock();
        }
    }
}
