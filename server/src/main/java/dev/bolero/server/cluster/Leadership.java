package dev.bolero.server.cluster;

import dev.bolero.server.store.ServerStore;
import java.sql.Connection;
import java.sql.SQLException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Who runs the singleton loops. On SQLite there is one server, which always leads. On PostgreSQL the leader holds a
 * session advisory lock on a connection of its own: when the process dies, PostgreSQL ends the session and frees the
 * lock, and another replica takes it at its next {@link #lead()}.
 */
sealed interface Leadership extends AutoCloseable {
    /** The advisory lock key: "bolero" in ASCII. */
    long LOCK_KEY = 0x626f6c65726fL;

    /** Whether this process leads now; tries to become leader when it does not. Never throws. */
    boolean lead();

    @Override
    void close();

    static Leadership of(ServerStore store) {
        return store.shared() ? new Advisory(store) : new Sole();
    }

    /** The only server. */
    record Sole() implements Leadership {
        @Override
        public boolean lead() {
            return true;
        }

        @Override
        public void close() {}
    }

    /** {@code pg_try_advisory_lock} on a dedicated connection. */
    final class Advisory implements Leadership {
        private static final Logger log = LoggerFactory.getLogger(Advisory.class);
        private final ServerStore store;
        private Connection connection;

        Advisory(ServerStore store) {
            this.store = store;
        }

        @Override
        public synchronized boolean lead() {
            try {
                if (connection != null) {
                    if (connection.isValid(2)) return true;
                    log.warn("leadership lost: the lock's connection broke");
                    drop();
                }
                Connection c = store.dedicatedConnection();
                try (var ps = c.prepareStatement("SELECT pg_try_advisory_lock(?)")) {
                    ps.setLong(1, LOCK_KEY);
                    try (var rs = ps.executeQuery()) {
                        rs.next();
                        if (rs.getBoolean(1)) {
                            connection = c;
                            log.info("leadership taken: this server runs the cluster loops");
                            return true;
                        }
                    }
                }
                c.close();
                return false;
            } catch (SQLException e) {
                log.warn("leadership: {}", e.getMessage());
                drop();
                return false;
            }
        }

        @Override
        public synchronized void close() {
            drop();
        }

        private void drop() {
            if (connection == null) return;
            try {
                connection.close();
            } catch (SQLException e) {
                log.debug("leadership: close: {}", e.getMessage());
            }
            connection = null;
        }
    }
}
