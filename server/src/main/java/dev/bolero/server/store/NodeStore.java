package dev.bolero.server.store;

import static dev.bolero.server.store.Statements.JSON;

import dev.bolero.api.wire.Capacity;
import dev.bolero.core.Driver;
import dev.bolero.core.NodeState;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import tools.jackson.core.type.TypeReference;

/** Nodes: identity, health, administrative state, capacity and assignment index, in one {@link Tx}. */
public final class NodeStore {
    private static final String READY = Statements.literal(NodeState.READY.wireName());
    private static final String DOWN = Statements.literal(NodeState.DOWN.wireName());
    private static final String COLUMNS = "id, name, health, admin_state, labels, drivers, capacity_cpus, "
            + "capacity_memory_mb, heartbeat_at, assign_index, joined_at";
    /** Nodes are read on every placement and their labels and drivers rarely change: their JSON is parsed once. */
    private static final Statements.ParseCache<Map<String, String>> LABELS =
            new Statements.ParseCache<>(new TypeReference<>() {});
    private static final Statements.ParseCache<List<Driver>> DRIVERS =
            new Statements.ParseCache<>(new TypeReference<>() {});
    /** The drivers' texts: every report writes its node's, nearly always one of a few lists. */
    private static final Statements.TextCache<List<Driver>> DRIVER_TEXTS = new Statements.TextCache<>();

    private final Statements sql;
    private final Tx tx;

    NodeStore(Statements sql, Tx tx) {
        this.sql = sql;
        this.tx = tx;
    }

    public void insert(NodeRow n) throws SQLException {
        sql.update("INSERT INTO nodes (" + COLUMNS + ") VALUES (?,?,?,?,?,?,?,?,?,?,?)", n.id(), n.name(),
                n.health().wireName(), n.adminState().wireName(), JSON.writeValueAsString(n.labels()),
                JSON.writeValueAsString(n.drivers()),
                n.capacity().cpus(), n.capacity().memoryMb(), n.heartbeatAt().toEpochMilli(), n.assignIndex(),
                n.joinedAt().toEpochMilli());
    }

    public Optional<NodeRow> get(String id) throws SQLException {
        return sql.one("SELECT " + COLUMNS + " FROM nodes WHERE id = ?", NodeStore::node, id);
    }

    /** The nodes of these ids that exist, in one statement, queued ({@link Later}). */
    public Later<List<NodeRow>> get(Collection<String> ids) throws SQLException {
        return sql.laterIn("SELECT " + COLUMNS + " FROM nodes WHERE id", NodeStore::node, ids);
    }

    /** The node's assignment index, if it exists. */
    public Optional<Long> assignIndex(String id) throws SQLException {
        return sql.one("SELECT assign_index FROM nodes WHERE id = ?", rs -> rs.getLong(1), id);
    }

    /** Every node's assignment index, by node id. */
    public Map<String, Long> assignIndexes() throws SQLException {
        var indexes = new HashMap<String, Long>();
        for (var row : sql.all("SELECT id, assign_index FROM nodes", rs -> Map.entry(rs.getString(1), rs.getLong(2)))) {
            indexes.put(row.getKey(), row.getValue());
        }
        return indexes;
    }

    public List<NodeRow> list() throws SQLException {
        return sql.all("SELECT " + COLUMNS + " FROM nodes ORDER BY id", NodeStore::node);
    }

    /** One page of the nodes, by id. */
    public List<NodeRow> list(Page page) throws SQLException {
        return sql.all("SELECT " + COLUMNS + " FROM nodes WHERE " + Page.sql("id"), NodeStore::node, page.args());
    }

    /** Records a heartbeat: capacity, drivers, time, and health {@code ready}. */
    public void heartbeat(String id, Capacity capacity, List<Driver> drivers, Instant now) throws SQLException {
        sql.update("UPDATE nodes SET capacity_cpus = ?, capacity_memory_mb = ?, drivers = ?, heartbeat_at = ?, "
                + "health = " + READY + " WHERE id = ?", capacity.cpus(), capacity.memoryMb(),
                DRIVER_TEXTS.text(drivers), now.toEpochMilli(), id);
    }

    /**
     * Records a heartbeat of a node that is {@code ready}, as {@link #heartbeat} does, and reads back what its report
     * is compared with: on PostgreSQL in one statement, queued ({@link Later}), on SQLite in two, run now. Empty when
     * no ready node has that id (it is down, or there is none), and then nothing was written.
     */
    public Later<Optional<ReadyBeat>> heartbeatIfReady(String id, Capacity capacity, List<Driver> drivers, Instant now)
            throws SQLException {
        String update = "UPDATE nodes SET capacity_cpus = ?, capacity_memory_mb = ?, drivers = ?, heartbeat_at = ? "
                + "WHERE id = ? AND health = " + READY + " RETURNING assign_index, admin_state, "
                + PrivateNetworkStore.MEMBER_COLUMNS;
        Object[] args = {capacity.cpus(), capacity.memoryMb(), DRIVER_TEXTS.text(drivers), now.toEpochMilli(), id};
        if (!sql.postgres()) {
            var beat = sql.one(update, rs -> beat(id, rs), args);
            return Later.of(beat.isEmpty() ? Optional.empty()
                    : Optional.of(new ReadyBeat(beat.get().beat(), beat.get().member(), tx.machines().seenOn(id))));
        }
        // The machines are read in the statement that writes the heartbeat (it writes no machine): one statement.
        var machines = new HashMap<String, MachineStore.Seen>();
        return sql.later("WITH beat AS (" + update + ") SELECT beat.*, " + prefixed(MachineStore.SEEN_COLUMNS)
                + " FROM beat LEFT JOIN machines m ON m.node_id = ?", rs -> {
                    if (rs.getString("id") != null) machines.put(rs.getString("id"), MachineStore.seen(rs));
                    return beat(id, rs);
                }, append(args, id)).map(rows -> rows.isEmpty() ? Optional.empty()
                        : Optional.of(new ReadyBeat(rows.getFirst().beat(), rows.getFirst().member(), machines)));
    }

    /**
     * A ready node's heartbeat as {@link #heartbeatIfReady} wrote it.
     *
     * @param beat its assignment index and administrative state
     * @param member its part in the private network; empty when it takes none
     * @param machines the machines on it, deleted ones included, as its report is compared with them, by id
     */
    public record ReadyBeat(Beat beat, Optional<PrivateNetworkStore.Member> member,
                            Map<String, MachineStore.Seen> machines) {}

    /** What a heartbeat reads back: the node's assignment index and administrative state. */
    public record Beat(long assignIndex, NodeState adminState) {}

    private static ReadyBeat beat(String id, ResultSet rs) throws SQLException {
        return new ReadyBeat(new Beat(rs.getLong("assign_index"), NodeState.parse(rs.getString("admin_state"))),
                PrivateNetworkStore.memberOf(id, rs), Map.of());
    }

    private static String prefixed(String columns) {
        return "m." + columns.replace(", ", ", m.");
    }

    private static Object[] append(Object[] args, Object last) {
        Object[] all = java.util.Arrays.copyOf(args, args.length + 1);
        all[args.length] = last;
        return all;
    }

    /**
     * Records the nodes' heartbeat time alone (their reports came with the polls this server held until {@code now}),
     * of those that are {@code ready}, in one statement: a node marked down meanwhile comes back only with a report.
     * The ids of the nodes it recorded.
     */
    public Set<String> heldPollBeats(Collection<String> ids, Instant now) throws SQLException {
        if (ids.isEmpty()) return Set.of();
        var args = new ArrayList<Object>(ids.size() + 1);
        args.add(now.toEpochMilli());
        args.addAll(ids);
        return new HashSet<>(sql.all("UPDATE nodes SET heartbeat_at = ? WHERE health = " + READY + " AND id IN "
                + inIdOrder(ids) + " RETURNING id", rs -> rs.getString(1), args.toArray()));
    }

    /** Sets the node's administrative state: ready, cordoned or draining. */
    public void setAdminState(String id, NodeState adminState) throws SQLException {
        sql.update("UPDATE nodes SET admin_state = ? WHERE id = ?", adminState.wireName(), id);
    }

    /** Deletes the node's row; its credentials and pending streams go with it (the schema cascades). */
    public void delete(String id) throws SQLException {
        sql.update("DELETE FROM nodes WHERE id = ?", id);
    }

    /** Marks the node down if its last heartbeat is still before {@code cutoff}; whether it did. */
    public boolean markDown(String id, Instant cutoff) throws SQLException {
        return sql.update("UPDATE nodes SET health = " + DOWN + " WHERE id = ? AND health = " + READY
                + " AND heartbeat_at < ?", id, cutoff.toEpochMilli()) > 0;
    }

    /**
     * Stamps the nodes' assignments as changed at this transaction's index, in one statement queued to go with the
     * transaction's next ({@link Statements#defer}), their rows locked in the order of their ids.
     */
    public void touchAssignments(Collection<String> ids) throws SQLException {
        if (ids.isEmpty()) return;
        var args = new ArrayList<Object>();
        args.add(tx.index());
        args.addAll(ids);
        sql.defer("UPDATE nodes SET assign_index = ? WHERE id IN " + inIdOrder(ids), args.toArray());
    }

    /**
     * {@code (?,…)} for {@code ids}, for a statement that updates several nodes' rows: on PostgreSQL a subquery that
     * locks them in the order of their ids, the order every writer of several nodes' rows takes (ready nodes'
     * reports too, one statement per node); a plan's own order (a scan of the table's pages) met theirs and deadlocked.
     */
    private String inIdOrder(Collection<String> ids) {
        String in = Statements.placeholders(ids);
        return sql.postgres() ? "(SELECT id FROM nodes WHERE id IN " + in + " ORDER BY id FOR UPDATE)" : in;
    }

    /** Stamps the node's assignments as changed at this transaction's index. */
    public void touchAssignments(String id) throws SQLException {
        touchAssignments(List.of(id));
    }

    private static NodeRow node(ResultSet rs) throws SQLException {
        return new NodeRow(rs.getString(1), rs.getString(2), NodeState.parse(rs.getString(3)),
                NodeState.parse(rs.getString(4)), LABELS.parse(rs.getString(5)), DRIVERS.parse(rs.getString(6)),
                new Capacity(rs.getInt(7), rs.getLong(8)), Instant.ofEpochMilli(rs.getLong(9)), rs.getLong(10),
                Instant.ofEpochMilli(rs.getLong(11)));
    }
}
