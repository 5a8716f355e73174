package dev.bolero.server.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.bolero.server.PostgresCluster;
import java.io.FilterInputStream;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.SocketFactory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link Statements}' queue on a real PostgreSQL: queued statements run in the order they were queued, each gets its
 * own result, a write queued before a read is seen by it, and a failure fails every statement sent with it and leaves
 * the transaction to roll back; a transaction's commit goes with its queue. On SQLite the same calls run at once, with
 * the same results.
 */
class StatementsTest {
    private static PostgresCluster postgres;
    private static String jdbc;

    @BeforeAll
    static void start() throws Exception {
        String why = PostgresCluster.unavailable();
        assumeTrue(why == null, why);
        postgres = new PostgresCluster();
        jdbc = "jdbc:" + postgres.newDatabase().replace("bolero@", "");
    }

    @AfterAll
    static void stop() throws Exception {
        if (postgres != null) postgres.close();
    }

    private static Connection postgresTable() throws SQLException {
        Connection c = DriverManager.getConnection(jdbc, "bolero", null);
        try (var s = c.createStatement()) {
            s.execute("DROP TABLE IF EXISTS t");
            s.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)");
        }
        return c;
    }

    @Test
    void queuedStatementsRunInOrderEachWithItsOwnResult() throws SQLException {
        try (Connection c = postgresTable()) {
            queuedStatementsRunInOrder(new Statements(c, Optional.empty(), true));
        }
    }

    @Test
    void onSqliteTheSameCallsRunAtOnceWithTheSameResults(@TempDir Path dir) throws SQLException {
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("t.db"))) {
            try (var s = c.createStatement()) {
                s.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)");
            }
            queuedStatementsRunInOrder(new Statements(c, Optional.empty(), false));
        }
    }

    private static void queuedStatementsRunInOrder(Statements sql) throws SQLException {
        sql.defer("INSERT INTO t (id, v) VALUES (?, ?)", 1, "a");
        Later<List<String>> first = sql.later("SELECT v FROM t WHERE id = ?", rs -> rs.getString(1), 1);
        sql.deferRows("INSERT INTO t (id, v) VALUES (?, ?)", List.of(new Object[] {2, "b"}, new Object[] {3, null}));
        Later<List<Long>> count = sql.later("SELECT count(*) FROM t", rs -> rs.getLong(1));
        Later<List<Integer>> none = sql.later("SELECT id FROM t WHERE v = ?", rs -> rs.getInt(1), "zz");
        Later<List<String>> updated = sql.later("UPDATE t SET v = 'c' WHERE id = ? RETURNING v", rs -> rs.getString(1),
                3);

        assertThat(count.get()).as("both inserts ran before the count").containsExactly(3L);
        assertThat(first.get()).as("the insert queued before it").containsExactly("a");
        assertThat(none.get()).isEmpty();
        assertThat(updated.get()).containsExactly("c");
        assertThat(sql.laterIn("SELECT v FROM t WHERE id", rs -> rs.getString(1), List.of()).get()).isEmpty();

        // A statement run at once goes after the queued ones: the update below sees the queued write.
        sql.defer("UPDATE t SET v = 'd' WHERE id = ?", 2);
        assertThat(sql.update("UPDATE t SET v = v || '!' WHERE v IN ('a', 'd')")).isEqualTo(2);
        assertThat(sql.all("SELECT v FROM t ORDER BY id", rs -> rs.getString(1))).containsExactly("a!", "d!", "c");

        sql.defer("DELETE FROM t WHERE id = ?", 1);
        sql.send();
        sql.send(); // nothing queued: nothing sent
        assertThat(sql.all("SELECT id FROM t ORDER BY id", rs -> rs.getInt(1))).containsExactly(2, 3);
    }

    @Test
    void aFailureFailsTheStatementsSentWithItAndTheTransactionRollsBack() throws SQLException {
        try (Connection c = postgresTable()) {
            c.setAutoCommit(false);
            var sql = new Statements(c, Optional.empty(), true);
            sql.defer("INSERT INTO t (id, v) VALUES (?, ?)", 1, "a");
            Later<List<String>> before = sql.later("SELECT v FROM t", rs -> rs.getString(1));
            sql.deferRows("INSERT INTO t (id, v) VALUES (?, ?)", List.of(new Object[] {2, "b"}, new Object[] {1, "c"}));
            Later<List<String>> after = sql.later("SELECT v FROM t", rs -> rs.getString(1));

            assertThatThrownBy(after::get).isInstanceOfSatisfying(SQLException.class,
                    e -> assertThat(Statements.uniqueViolation(e)).as(e.getMessage()).isTrue());
            assertThatThrownBy(after::get).hasMessageContaining("not run");
            assertThatThrownBy(() -> sql.update("UPDATE t SET v = 'x'")).as("the transaction is aborted")
                    .isInstanceOf(SQLException.class);
            assertThatThrownBy(before::get).as("sent with the failing one").hasMessageContaining("not run");
            c.rollback();
            c.setAutoCommit(true);
            assertThat(sql.all("SELECT count(*) FROM t", rs -> rs.getLong(1))).containsExactly(0L);
        }
    }

    @Test
    void aTransactionsQueuedStatementsAndItsCommitGoInOneRoundTrip() throws SQLException {
        try (Connection setup = postgresTable()) {
            var props = new Properties();
            props.setProperty("user", "bolero");
            props.setProperty("socketFactory", CountingSockets.class.getName());
            try (Connection c = DriverManager.getConnection(jdbc, props);
                 Connection other = DriverManager.getConnection(jdbc, "bolero", null)) {
                var sql = new Statements(c, Optional.empty(), true);
                c.setAutoCommit(false);
                int before = CountingSockets.roundTrips.get();
                sql.defer("INSERT INTO t (id, v) VALUES (?, ?)", 1, "a");
                sql.deferRows("INSERT INTO t (id, v) VALUES (?, ?)", List.<Object[]>of(new Object[] {2, "b"}));
                sql.commit();
                assertThat(CountingSockets.roundTrips.get() - before).as("round trips").isEqualTo(1);
                assertThat(new Statements(other, Optional.empty(), true)
                        .all("SELECT v FROM t ORDER BY id", rs -> rs.getString(1))).containsExactly("a", "b");

                // The next transaction on the connection begins afresh, and nothing queued: the commit alone.
                sql.defer("UPDATE t SET v = 'c' WHERE id = ?", 1);
                sql.send();
                before = CountingSockets.roundTrips.get();
                sql.commit();
                assertThat(CountingSockets.roundTrips.get() - before).isEqualTo(1);

                // A failure commits nothing: the transaction is left to roll back, and the connection goes on.
                sql.defer("UPDATE t SET v = 'd' WHERE id = ?", 2);
                sql.defer("INSERT INTO t (id, v) VALUES (?, ?)", 1, "again");
                assertThatThrownBy(sql::commit).isInstanceOfSatisfying(SQLException.class,
                        e -> assertThat(Statements.uniqueViolation(e)).as(e.getMessage()).isTrue());
                c.rollback();
                c.setAutoCommit(true);
                assertThat(sql.all("SELECT v FROM t ORDER BY id", rs -> rs.getString(1))).containsExactly("c", "b");
            }
        }
    }

    /** Sockets that count round trips: a read after a write. For pgjdbc's {@code socketFactory} property. */
    public static final class CountingSockets extends SocketFactory {
        static final AtomicInteger roundTrips = new AtomicInteger();

        @Override
        public Socket createSocket() {
            var wrote = new AtomicBoolean();
            return new Socket() {
                @Override
                public InputStream getInputStream() throws IOException {
                    return new FilterInputStream(super.getInputStream()) {
                        @Override
                        public int read(byte[] b, int off, int len) throws IOException {
                            if (wrote.getAndSet(false)) roundTrips.incrementAndGet();
                            return super.read(b, off, len);
                        }
                    };
                }

                @Override
                public OutputStream getOutputStream() throws IOException {
                    return new FilterOutputStream(super.getOutputStream()) {
                        @Override
                        public void write(byte[] b, int off, int len) throws IOException {
                            wrote.set(true);
                            out.write(b, off, len);
                        }
                    };
                }
            };
        }

        @Override
        public Socket createSocket(String host, int port) throws IOException {
            return createSocket(InetAddress.getByName(host), port);
        }

        @Override
        public Socket createSocket(String host, int port, InetAddress local, int localPort) throws IOException {
            return createSocket(InetAddress.getByName(host), port, local, localPort);
        }

        @Override
        public Socket createSocket(InetAddress host, int port) throws IOException {
            return connected(null, new InetSocketAddress(host, port));
        }

        @Override
        public Socket createSocket(InetAddress host, int port, InetAddress local, int localPort) throws IOException {
            return connected(new InetSocketAddress(local, localPort), new InetSocketAddress(host, port));
        }

        /** A counting socket bound to {@code local} (null: any) and connected to {@code to}. */
        private Socket connected(InetSocketAddress local, InetSocketAddress to) throws IOException {
            Socket socket = createSocket();
            if (local != null) socket.bind(local);
            socket.connect(to);
            return socket;
        }
    }

    @Test
    void deferRowsRefusesAStatementThatIsNotAnInsertOfOneRow() throws SQLException {
        try (Connection c = postgresTable()) {
            var sql = new Statements(c, Optional.empty(), true);
            assertThatThrownBy(() -> sql.deferRows("UPDATE t SET v = ?", List.<Object[]>of(new Object[] {"x"})))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("not an INSERT of one VALUES row");
        }
    }
}
