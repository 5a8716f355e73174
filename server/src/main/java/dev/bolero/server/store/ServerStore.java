package dev.bolero.server.store;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.bolero.api.ApiException;
import dev.bolero.core.ValidationException;
import java.net.URI;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.Optional;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import javax.sql.DataSource;
import org.flywaydb.core.Flyway;
import dev.bolero.api.PrivateFiles;
import dev.bolero.api.SqliteIntegrity;
import org.sqlite.SQLiteConfig;
import org.sqlite.SQLiteDataSource;

/**
 * The control plane's store: SQLite at a file (the embedded default: one writing connection shared under a lock, and
 * {@value #SQLITE_READERS} reading connections, which WAL lets read beside a write) or PostgreSQL (a HikariCP pool,
 * several server processes at once). Migrations run at {@link #open}.
 *
 * <p>{@link #write} transactions serialise on the one-row {@code state_index} table (every write transaction starts by
 * bumping it), so a placement's re-check and commit can never interleave with another write, on either database.
 * {@link #update} transactions do not take that lock: heartbeats and other writes that change no assignment.
 * {@link ApiException}s and {@link ValidationException}s thrown inside a transaction roll it back and propagate
 * unchanged; database failures become {@link StoreException} naming the action.
 */
public final class ServerStore implements AutoCloseable {
    private static final int SQLITE_READERS = 4;
    /** PostgreSQL connections for {@link #report} transactions, beside the pool of 16 for the others. */
    private static final int REPORT_CONNECTIONS = 4;
    /** How many times a PostgreSQL transaction runs when it deadlocks or fails to serialize. */
    private static final int TRANSIENT_ATTEMPTS = 4;
    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(ServerStore.class);

    private final DataSource dataSource;
    /**
     * PostgreSQL's pool for {@link #report} transactions, whose sessions commit without waiting for the WAL flush
     * ({@code synchronous_commit=off}, set once per connection rather than per transaction); empty on SQLite.
     */
    private final Optional<HikariDataSource> reports;
    /** SQLite's writing connection, guarded by {@link #sqliteLock}. */
    private final Optional<Session> sqlite;
    private final ReentrantLock sqliteLock = new ReentrantLock();
    /** SQLite's reading connections, each used by one read transaction at a time. */
    private final ArrayBlockingQueue<Session> sqliteReaders = new ArrayBlockingQueue<>(SQLITE_READERS);
    private final Optional<String> postgresUrl;
    /** Whether the SQLite writing connection is at {@code synchronous=FULL}; guarded by {@link #sqliteLock}. */
    private boolean sqliteFullSync = true;

    /** A long-lived SQLite connection with its prepared statements. */
    private record Session(Connection connection, Statements.Cache statements) {
        Session(Connection connection) {
            this(connection, new Statements.Cache());
        }

        void close() throws SQLException {
            statements.close();
            connection.close();
        }
    }

    private ServerStore(DataSource dataSource, Optional<HikariDataSource> reports, Optional<Session> sqlite,
                        Optional<String> postgresUrl) {
        this.dataSource = dataSource;
        this.reports = reports;
        this.sqlite = sqlite;
        this.postgresUrl = postgresUrl;
    }

    /**
     * A unit of work inside a transaction. On PostgreSQL a transaction that deadlocks or fails to serialize is rolled
     * back and its work run again (up to {@value #TRANSIENT_ATTEMPTS} times), so work must not act outside its
     * transaction.
     */
    @FunctionalInterface
    public interface Work<T> {
        T run(Tx tx) throws SQLException;
    }

    /**
     * Opens the SQLite store at {@code file}, creating it when absent (mode {@code 0600}, as its journal files are),
     * and migrates it.
     *
     * @throws StoreException when it cannot be opened or migrated, or is damaged ({@link SqliteIntegrity})
     */
    public static ServerStore sqlite(Path file) {
        try {
            PrivateFiles.sqlite(file); // its WAL holds machines' env values: 0600, as the file and its companions
        } catch (java.io.IOException e) {
            throw new StoreException("open store " + file + ": " + e.getMessage(), e);
        }
        SQLiteConfig config = new SQLiteConfig();
        config.setJournalMode(SQLiteConfig.JournalMode.WAL);
        // FULL: a write that returned is on disk. Reports switch to NORMAL for their own transactions (see report).
        config.setSynchronous(SQLiteConfig.SynchronousMode.FULL);
        config.enforceForeignKeys(true);
        config.setBusyTimeout(10_000);
        SQLiteDataSource dataSource = new SQLiteDataSource(config);
        dataSource.setUrl("jdbc:sqlite:" + file);
        try {
            SqliteIntegrity.requireIntact(dataSource, file);
            migrate(dataSource);
            var store = new ServerStore(dataSource, Optional.empty(),
                    Optional.of(new Session(dataSource.getConnection())), Optional.empty());
            for (int i = 0; i < SQLITE_READERS; i++) store.sqliteReaders.add(new Session(dataSource.getConnection()));
            return store;
        } catch (SQLException | RuntimeException e) {
            throw new StoreException("open store " + file + ": " + e.getMessage(), e);
        }
    }

    /**
     * Connects to PostgreSQL at {@code url} ({@code postgresql://user:password@host:port/database}) and migrates it.
     * Concurrent starts of several servers are safe: Flyway locks the schema history table.
     *
     * @throws StoreException when it cannot connect or migrate
     * @throws IllegalArgumentException when the URL is not a {@code postgresql://} URL with a database
     */
    public static ServerStore postgres(String url) {
        String jdbc = jdbcUrl(url);
        URI uri = URI.create(url);
        HikariConfig config = new HikariConfig();
        config.setJdbcUrl(jdbc);
        config.setPoolName("bolero-server");
        config.setMaximumPoolSize(16);
        String userInfo = uri.getRawUserInfo();
        if (userInfo != null) {
            int colon = userInfo.indexOf(':');
            config.setUsername(decode(colon < 0 ? userInfo : userInfo.substring(0, colon)));
            if (colon >= 0) config.setPassword(decode(userInfo.substring(colon + 1)));
        }
        HikariDataSource pool;
        try {
            pool = new HikariDataSource(config);
        } catch (RuntimeException e) {
            throw new StoreException("connect to " + redacted(uri) + ": " + e.getMessage(), e);
        }
        HikariDataSource reports = null;
        try {
            migrate(pool);
            HikariConfig reporting = new HikariConfig();
            config.copyStateTo(reporting);
            reporting.setPoolName("bolero-server-reports");
            reporting.setMaximumPoolSize(REPORT_CONNECTIONS);
            // Reports commit without waiting for the disk (see report), and their statements keep one generic plan:
            // left to choose, PostgreSQL planned the heartbeat's statement (a node's row and its machines, by id)
            // afresh on every execution, which cost as much CPU as running it; its generic plan is as fast. Every
            // report statement finds its rows by key, and a generic plan lives as long as its connection or until the
            // table is next analyzed: one made right after the table was analyzed nearly empty (a new cluster, or
            // all machines just deleted) scans the whole table, ~1.4 ms at 15,000 machines against 0.05 ms by key,
            // so these connections plan without sequential scans.
            reporting.setConnectionInitSql("SET synchronous_commit = off; SET plan_cache_mode = force_generic_plan;"
                    + " SET enable_seqscan = off");
            reports = new HikariDataSource(reporting);
            return new ServerStore(pool, Optional.of(reports), Optional.empty(), Optional.of(url));
        } catch (RuntimeException e) {
            pool.close();
            if (reports != null) reports.close();
            throw new StoreException("migrate " + redacted(uri) + ": " + e.getMessage(), e);
        }
    }

    /** Whether this store is PostgreSQL (several servers may share it). */
    public boolean shared() {
        return postgresUrl.isPresent();
    }

    /**
     * A new connection outside the pool, for a session that must outlive pool recycling (the leadership lock).
     *
     * @throws IllegalStateException on SQLite
     */
    public Connection dedicatedConnection() throws SQLException {
        String url = postgresUrl.orElseThrow(() -> new IllegalStateException("dedicated connection: not PostgreSQL"));
        URI uri = URI.create(url);
        var props = new java.util.Properties();
        String userInfo = uri.getRawUserInfo();
        if (userInfo != null) {
            int colon = userInfo.indexOf(':');
            props.setProperty("user", decode(colon < 0 ? userInfo : userInfo.substring(0, colon)));
            if (colon >= 0) props.setProperty("password", decode(userInfo.substring(colon + 1)));
        }
        return DriverManager.getConnection(jdbcUrl(url), props);
    }

    /** How a transaction commits. */
    private enum Kind {
        /** Bumps the state index first; durable when it returns. */
        WRITE,
        /** Does not take the state-index lock; durable when it returns. */
        UPDATE,
        /** Records what nodes report; may be lost on a power failure (the next heartbeat reports it again). */
        REPORT,
        /** As {@link #REPORT}, statement by statement on PostgreSQL. */
        REPORT_BY_STATEMENT,
        /** Reads only. */
        READ
    }

    /**
     * Runs {@code work} in a transaction that first bumps the state index ({@link Tx#index()}). When this returns the
     * transaction is durable: on SQLite its commit is synced to disk ({@code synchronous=FULL}); on PostgreSQL it
     * waits for the WAL flush ({@code synchronous_commit=on}).
     */
    public <T> T write(String action, Work<T> work) {
        return transaction(action, Kind.WRITE, work);
    }

    /** Runs {@code work} in a transaction that does not take the state-index lock; durable as {@link #write}. */
    public <T> T update(String action, Work<T> work) {
        return transaction(action, Kind.UPDATE, work);
    }

    /**
     * Runs {@code work}, which records what a node reports (heartbeats), in a transaction that does not take the
     * state-index lock and does not wait for its commit to reach the disk: it survives a crash of this process, but a
     * power failure may lose it, and the node's next heartbeat reports it again. On SQLite it commits with
     * {@code synchronous=NORMAL} (WAL), on PostgreSQL with {@code synchronous_commit=off}.
     */
    public <T> T report(String action, Work<T> work) {
        return transaction(action, Kind.REPORT, work);
    }

    /**
     * Runs {@code work}, which records what a node reports, as {@link #report} does, except that on PostgreSQL each
     * statement commits on its own (autocommit: no transaction's begin and commit round trips): {@code work} must
     * leave a valid state after any of its statements, one the node's next report completes.
     */
    public <T> T reportByStatement(String action, Work<T> work) {
        return transaction(action, Kind.REPORT_BY_STATEMENT, work);
    }

    /**
     * Runs {@code work}, which only reads: on SQLite in a read transaction (one snapshot), on PostgreSQL statement by
     * statement (each sees what was committed when it starts, as at the READ COMMITTED isolation of a transaction).
     */
    public <T> T read(String action, Work<T> work) {
        return transaction(action, Kind.READ, work);
    }

    private <T> T transaction(String action, Kind kind, Work<T> work) {
        if (sqlite.isPresent() && kind == Kind.READ) {
            Session reader;
            try {
                reader = sqliteReaders.take();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new StoreException(action + ": interrupted waiting for a connection", e);
            }
            try {
                return run(reader.connection(), Optional.of(reader.statements()), action, kind, work);
            } finally {
                sqliteReaders.add(reader);
            }
        }
        if (sqlite.isPresent()) {
            sqliteLock.lock();
            try {
                Connection c = sqlite.get().connection();
                boolean full = kind != Kind.REPORT && kind != Kind.REPORT_BY_STATEMENT;
                if (full != sqliteFullSync) {
                    try (var statement = c.createStatement()) {
                        statement.execute("PRAGMA synchronous = " + (full ? "FULL" : "NORMAL"));
                    } catch (SQLException e) {
                        throw new StoreException(action + ": set synchronous: " + e.getMessage(), e);
                    }
                    sqliteFullSync = full;
                }
                return run(c, Optional.of(sqlite.get().statements()), action, kind, work);
            } finally {
                sqliteLock.unlock();
            }
        }
        boolean report = kind == Kind.REPORT || kind == Kind.REPORT_BY_STATEMENT;
        try (Connection c = (report ? reports.orElseThrow() : dataSource).getConnection()) {
            for (int attempt = 1; ; attempt++) {
                try {
                    return run(c, Optional.empty(), action, kind, work);
                } catch (StoreException e) {
                    // PostgreSQL rolled the whole transaction back and asks for it to be run again.
                    if (attempt == TRANSIENT_ATTEMPTS || !(e.getCause() instanceof SQLException cause)
                            || !Statements.transientFailure(cause)) {
                        throw e;
                    }
                    log.debug("{}: {} (attempt {}), running it again", action, cause.getMessage(), attempt);
                    sleepBeforeRetry(attempt);
                }
            }
        } catch (SQLException e) {
            throw new StoreException(action + ": " + e.getMessage(), e);
        }
    }

    /** A short random pause, growing with {@code attempt}, so transactions that collided do not collide again. */
    private static void sleepBeforeRetry(int attempt) {
        try {
            Thread.sleep(java.util.concurrent.ThreadLocalRandom.current().nextLong(1, 10L * attempt));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private <T> T run(Connection c, Optional<Statements.Cache> statements, String action, Kind kind, Work<T> work) {
        try {
            // A read on PostgreSQL runs statement by statement (autocommit), which at READ COMMITTED, the isolation
            // of every transaction here, sees what a transaction would, and saves the commit's round trip; so does a
            // report by statement, each of its writes committed alone.
            if ((kind == Kind.READ || kind == Kind.REPORT_BY_STATEMENT) && shared()) {
                Tx tx = new Tx(c, statements, true);
                T result = work.run(tx);
                tx.send();
                return result;
            }
            c.setAutoCommit(false);
            try {
                Tx tx = new Tx(c, statements, shared());
                if (kind == Kind.WRITE) tx.bumpIndex();
                T result = work.run(tx);
                tx.commit();
                return result;
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            } finally {
                c.setAutoCommit(true);
            }
        } catch (ApiException | ValidationException e) {
            throw e;
        } catch (SQLException e) {
            if (Statements.uniqueViolation(e)) throw ApiException.conflict(action + ": already exists");
            throw new StoreException(action + ": " + e.getMessage(), e);
        } catch (RuntimeException e) {
            if (e instanceof StoreException) throw e;
            throw new StoreException(action + ": " + e.getMessage(), e);
        }
    }

    @Override
    public void close() {
        sqlite.ifPresent(writer -> {
            sqliteLock.lock();
            try {
                // Each reader once its read transaction (if any) ends.
                for (int i = 0; i < SQLITE_READERS; i++) {
                    Session reader = sqliteReaders.poll(10, TimeUnit.SECONDS);
                    if (reader != null) reader.close();
                }
                writer.close();
            } catch (SQLException e) {
                throw new StoreException("close store: " + e.getMessage(), e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new StoreException("close store: interrupted", e);
            } finally {
                sqliteLock.unlock();
            }
        });
        if (dataSource instanceof HikariDataSource pool) pool.close();
        reports.ifPresent(HikariDataSource::close);
    }

    private static void migrate(DataSource dataSource) {
        Flyway.configure().dataSource(dataSource).locations("classpath:db/server")
                .javaMigrations(new SpecColumnMigration(), new SuspendedStateMigration()).load().migrate();
    }

    static String jdbcUrl(String url) {
        URI uri;
        try {
            uri = URI.create(url);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--db: not a URL: " + e.getMessage());
        }
        if (!"postgresql".equals(uri.getScheme()) && !"postgres".equals(uri.getScheme())) {
            throw new IllegalArgumentException("--db must be postgresql://user:password@host:port/database, got "
                    + redacted(uri));
        }
        if (uri.getHost() == null || uri.getPath() == null || uri.getPath().length() < 2) {
            throw new IllegalArgumentException("--db needs a host and a database: " + redacted(uri));
        }
        return "jdbc:postgresql://" + uri.getHost() + (uri.getPort() > 0 ? ":" + uri.getPort() : "")
                + uri.getRawPath() + (uri.getRawQuery() == null ? "" : "?" + uri.getRawQuery());
    }

    private static String redacted(URI uri) {
        return uri.getScheme() + "://" + (uri.getHost() == null ? "" : uri.getHost())
                + (uri.getPort() > 0 ? ":" + uri.getPort() : "") + (uri.getPath() == null ? "" : uri.getPath());
    }

    private static String decode(String s) {
        return java.net.URLDecoder.decode(s, java.nio.charset.StandardCharsets.UTF_8);
    }
}
