package dev.bolero.agent.store;

import dev.bolero.agent.machine.MachineRecord;
import dev.bolero.api.ApiJson;
import dev.bolero.core.MachineSpec;
import dev.bolero.api.MachineEvent;
import dev.bolero.core.MachineState;
import dev.bolero.runtime.VmHandle;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import org.flywaydb.core.Flyway;
import dev.bolero.api.PrivateFiles;
import dev.bolero.api.SqliteIntegrity;
import org.sqlite.SQLiteConfig;
import org.sqlite.SQLiteDataSource;
import tools.jackson.databind.json.JsonMapper;

/**
 * The node's machines in SQLite ({@code DATA_DIR/bolero.db}). Migrations run on open. Thread-safe: one connection,
 * one statement at a time (SQLite serialises writers anyway, and the agent's write rate is a few per second).
 */
public final class MachineStore implements AutoCloseable {
    private static final JsonMapper JSON = ApiJson.mapper();
    private static final String COLUMNS =
            "id, name, namespace, state, config, image_digest, exit_code, error, vm_handle, created_at, updated_at, "
                    + "restart_count";

    private final Jdbc db;

    private MachineStore(Connection connection) {
        this.db = new Jdbc(connection, "store");
    }

    /**
     * Opens (creating when absent, mode {@code 0600} as its journal files) the store at {@code file} and migrates its
     * schema.
     *
     * @throws StoreException when the file cannot be opened or migrated
     */
    public static MachineStore open(Path file) {
        try {
            PrivateFiles.sqlite(file); // machines' configs and env values: 0600, as the file and its companions
        } catch (java.io.IOException e) {
            throw new StoreException("open store " + file + ": " + e.getMessage(), e);
        }
        SQLiteConfig config = new SQLiteConfig();
        config.setJournalMode(SQLiteConfig.JournalMode.WAL);
        config.setSynchronous(SQLiteConfig.SynchronousMode.NORMAL);
        config.setBusyTimeout(5_000);
        SQLiteDataSource dataSource = new SQLiteDataSource(config);
        dataSource.setUrl("jdbc:sqlite:" + file);
        try {
            SqliteIntegrity.requireIntact(dataSource, file);
            Flyway.configure()
                    .dataSource(dataSource)
                    .locations("classpath:db/agent")
                    .load()
                    .migrate();
            return new MachineStore(dataSource.getConnection());
        } catch (SQLException | RuntimeException e) {
            throw new StoreException("open store " + file + ": " + e.getMessage(), e);
        }
    }

    /** Inserts a new machine; a duplicate id or name is a {@link StoreException}. */
    public void insert(MachineRecord m) {
        db.write("insert machine " + m.id(), "INSERT INTO machines (" + COLUMNS + ") VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                ps -> bind(ps, m));
    }

    /** Replaces a machine's row. */
    public void update(MachineRecord m) {
        db.write("update machine " + m.id(),
                "UPDATE machines SET id=?, name=?, namespace=?, state=?, config=?, image_digest=?, exit_code=?, "
                        + "error=?, vm_handle=?, created_at=?, updated_at=?, restart_count=? WHERE id=?",
                ps -> {
                    bind(ps, m);
                    ps.setString(13, m.id());
                });
    }

    /** Deletes a machine's row and its events; absent is fine. */
    public void delete(String id) {
        db.write("delete machine " + id, "DELETE FROM machines WHERE id=?", ps -> ps.setString(1, id));
        db.write("delete events of machine " + id, "DELETE FROM machine_events WHERE machine_id=?",
                ps -> ps.setString(1, id));
    }

    /** Appends an event to a machine's history; its id and time are assigned here. */
    public void addEvent(String machineId, String type, MachineState state, Optional<String> reason,
            OptionalInt exitCode, String detail, Instant time) {
        db.write("record event " + type + " of machine " + machineId,
                "INSERT INTO machine_events (machine_id, type, state, reason, exit_code, detail, time) "
                        + "VALUES (?,?,?,?,?,?,?)",
                ps -> {
                    ps.setString(1, machineId);
                    ps.setString(2, type);
                    ps.setString(3, state.wireName());
                    ps.setString(4, reason.orElse(null));
                    if (exitCode.isPresent()) {
                        ps.setInt(5, exitCode.getAsInt());
                    } else {
                        ps.setNull(5, Types.INTEGER);
                    }
                    ps.setString(6, detail);
                    ps.setString(7, time.toString());
                });
    }

    /** A machine's events, oldest first. */
    public List<MachineEvent> events(String machineId) {
        return db.query("list events of machine " + machineId, "SELECT id, type, state, reason, exit_code, detail, "
                + "time FROM machine_events WHERE machine_id=? ORDER BY id", ps -> ps.setString(1, machineId), rs -> {
                    int exit = rs.getInt("exit_code");
                    Integer exitCode = rs.wasNull() ? null : exit;
                    return new MachineEvent(rs.getLong("id"), rs.getString("type"),
                            MachineState.parse(rs.getString("state")), rs.getString("reason"), exitCode,
                            rs.getString("detail"), Instant.parse(rs.getString("time")));
                });
    }

    /** The machine with this id. */
    public Optional<MachineRecord> find(String id) {
        List<MachineRecord> found = query("find machine " + id, "WHERE id=?", id);
        return found.stream().findFirst();
    }

    /** The machine with this name. */
    public Optional<MachineRecord> findByName(String name) {
        return query("find machine named " + name, "WHERE name=?", name).stream().findFirst();
    }

    /** All machines, oldest first. */
    public List<MachineRecord> list() {
        return query("list machines", "ORDER BY created_at, id");
    }

    @Override
    public void close() {
        db.close();
    }

    private List<MachineRecord> query(String action, String where, String... args) {
        return db.query(action, "SELECT " + COLUMNS + " FROM machines " + where, ps -> {
            for (int i = 0; i < args.length; i++) ps.setString(i + 1, args[i]);
        }, MachineStore::read);
    }

    private static void bind(PreparedStatement ps, MachineRecord m) throws SQLException {
        ps.setString(1, m.id());
        ps.setString(2, m.name());
        ps.setString(3, m.namespace());
        ps.setString(4, m.state().wireName());
        ps.setString(5, JSON.writeValueAsString(m.config()));
        ps.setString(6, m.imageDigest().orElse(null));
        if (m.exitCode().isPresent()) {
            ps.setInt(7, m.exitCode().getAsInt());
        } else {
            ps.setNull(7, Types.INTEGER);
        }
        ps.setString(8, m.error().orElse(null));
        ps.setString(9, m.vmHandle().map(JSON::writeValueAsString).orElse(null));
        ps.setString(10, m.createdAt().toString());
        ps.setString(11, m.updatedAt().toString());
        ps.setInt(12, m.restartCount());
    }

    private static MachineRecord read(ResultSet rs) throws SQLException {
        int exit = rs.getInt("exit_code");
        OptionalInt exitCode = rs.wasNull() ? OptionalInt.empty() : OptionalInt.of(exit);
        return new MachineRecord(
                rs.getString("id"),
                rs.getString("name"),
                rs.getString("namespace"),
                MachineState.parse(rs.getString("state")),
                JSON.readValue(rs.getString("config"), MachineSpec.class),
                Optional.ofNullable(rs.getString("image_digest")),
                exitCode,
                Optional.ofNullable(rs.getString("error")),
                Optional.ofNullable(rs.getString("vm_handle")).map(s -> JSON.readValue(s, VmHandle.class)),
                Instant.parse(rs.getString("created_at")),
                Instant.parse(rs.getString("updated_at")),
                rs.getInt("restart_count"));
    }
}
