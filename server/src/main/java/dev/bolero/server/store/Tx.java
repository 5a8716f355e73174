package dev.bolero.server.store;

import dev.bolero.api.ApiJson;
import dev.bolero.api.wire.Capacity;
import dev.bolero.api.wire.Fleet;
import dev.bolero.api.wire.FleetSpec;
import dev.bolero.api.wire.Namespace;
import dev.bolero.api.wire.StreamRequest;
import dev.bolero.core.Driver;
import dev.bolero.core.MachineSpec;
import dev.bolero.core.MachineState;
import dev.bolero.core.NodeState;
import java.net.URI;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import tools.jackson.core.type.TypeReference;
import tools.jackson.databind.json.JsonMapper;

/**
 * The SQL of the control plane, one method per statement, inside one transaction of {@link ServerStore}. Not
 * thread-safe; valid only inside the {@link ServerStore.Work} it was given to.
 */
public final class Tx {
    private static final JsonMapper JSON = ApiJson.mapper();
    private static final TypeReference<Map<String, String>> LABELS = new TypeReference<>() {};
    private static final TypeReference<List<Driver>> DRIVERS = new TypeReference<>() {};
    /** States as SQL literals: the statements name states only through these. */
    private static final String RUNNING = literal(MachineState.RUNNING.wireName());
    private static final String STOPPED = literal(MachineState.STOPPED.wireName());
    private static final String DESTROYED = literal(MachineState.DESTROYED.wireName());
    private static final String CREATED = literal(MachineState.CREATED.wireName());
    private static final String FAILED = literal(MachineState.FAILED.wireName());
    private static final String READY = literal(NodeState.READY.wireName());
    private static final String DOWN = literal(NodeState.DOWN.wireName());
    private static final String DRAINING = literal(NodeState.DRAINING.wireName());
    private static final String MACHINE_COLUMNS = "id, namespace, fleet, name, spec, cpus, memory_mb, region, "
            + "node_labels, desired_state, stop_request, generation, node_id, observed_state, image_digest, "
            + "exit_code, error, modify_index, created_at, updated_at, config_version";
    /** A fleet's columns and how many of its live machines were created from an older config version. */
    private static final String FLEET_SELECT = "SELECT f.namespace, f.name, f.config, f.created_at, f.updated_at, "
            + "f.config_version, (SELECT COUNT(*) FROM machines m WHERE m.namespace = f.namespace AND m.fleet = f.name "
            + "AND m.desired_state <> " + DESTROYED + " AND m.config_version < f.config_version) FROM fleets f";
    private static final String NODE_COLUMNS = "id, name, health, admin_state, labels, drivers, capacity_cpus, "
            + "capacity_memory_mb, heartbeat_at, assign_index, joined_at";

    /** Matches the machines whose spec may publish ports: the mapper writes an empty list as {@code []}. */
    private static final String PUBLISHES = "spec NOT LIKE '%\"services\":[]%'";
    /** Nodes are read on every placement and their labels and drivers rarely change: their JSON is parsed once. */
    private static final ParseCache<Map<String, String>> PARSED_LABELS = new ParseCache<>(LABELS);
    private static final ParseCache<List<Driver>> PARSED_DRIVERS = new ParseCache<>(DRIVERS);

    private final Connection c;
    private long index = -1;

    Tx(Connection c) {
        this.c = c;
    }

    /** Per node: how many machines, and what they ask for in total. */
    public record Allocation(int machines, int cpus, long memoryMb) {}

    // ---- state index ----

    void bumpIndex() throws SQLException {
        update("UPDATE state_index SET value = value + 1 WHERE id = 1");
        index = currentIndex();
    }

    /**
     * The state index this write transaction allocated.
     *
     * @throws IllegalStateException outside a {@link ServerStore#write} transaction
     */
    public long index() {
        if (index < 0) throw new IllegalStateException("state index: not a write transaction");
        return index;
    }

    /** The latest committed state index. */
    public long currentIndex() throws SQLException {
        try (var ps = c.prepareStatement("SELECT value FROM state_index WHERE id = 1"); var rs = ps.executeQuery()) {
            rs.next();
            return rs.getLong(1);
        }
    }

    // ---- tokens ----

    /** Inserts a credential. */
    public void insertToken(String id, String hash, String scope, String namespace, String nodeId, Instant now)
            throws SQLException {
        update("INSERT INTO tokens (id, hash, scope, namespace, node_id, created_at) VALUES (?,?,?,?,?,?)",
                id, hash, scope, namespace, nodeId, now.toEpochMilli());
    }

    /** Inserts the credential with this fixed id unless one exists; whether it was inserted. */
    public boolean insertTokenIfAbsent(String id, String hash, String scope, Instant now) throws SQLException {
        return update("INSERT INTO tokens (id, hash, scope, created_at) VALUES (?,?,?,?) ON CONFLICT (id) DO NOTHING",
                id, hash, scope, now.toEpochMilli()) > 0;
    }

    /** Sets the credential with this fixed id, replacing any. */
    public void putToken(String id, String hash, String scope, Instant now) throws SQLException {
        update("INSERT INTO tokens (id, hash, scope, created_at) VALUES (?,?,?,?) "
                + "ON CONFLICT (id) DO UPDATE SET hash = excluded.hash", id, hash, scope, now.toEpochMilli());
    }

    /** The credential whose token hashes to {@code hash}. */
    public Optional<TokenRow> findToken(String hash) throws SQLException {
        return one("SELECT id, scope, namespace, node_id FROM tokens WHERE hash = ?",
                rs -> new TokenRow(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4)), hash);
    }

    // ---- namespaces ----

    /** Inserts a namespace; a duplicate is a unique violation. */
    public void insertNamespace(String name, Instant now) throws SQLException {
        update("INSERT INTO namespaces (name, created_at) VALUES (?,?)", name, now.toEpochMilli());
    }

    public Optional<Namespace> namespace(String name) throws SQLException {
        return one("SELECT name, created_at FROM namespaces WHERE name = ?",
                rs -> new Namespace(rs.getString(1), Instant.ofEpochMilli(rs.getLong(2))), name);
    }

    public List<Namespace> namespaces() throws SQLException {
        return all("SELECT name, created_at FROM namespaces ORDER BY name",
                rs -> new Namespace(rs.getString(1), Instant.ofEpochMilli(rs.getLong(2))));
    }

    // ---- fleets ----

    public void insertFleet(String namespace, FleetSpec spec, Instant now) throws SQLException {
        update("INSERT INTO fleets (namespace, name, config, created_at, updated_at) VALUES (?,?,?,?,?)",
                namespace, spec.name(), JSON.writeValueAsString(spec), now.toEpochMilli(), now.toEpochMilli());
    }

    /** Replaces an existing fleet's spec, bumping its config version when {@code newConfig}. */
    public void updateFleet(String namespace, FleetSpec spec, boolean newConfig, Instant now) throws SQLException {
        update("UPDATE fleets SET config = ?, config_version = config_version + ?, updated_at = ? "
                + "WHERE namespace = ? AND name = ?",
                JSON.writeValueAsString(spec), newConfig ? 1 : 0, now.toEpochMilli(), namespace, spec.name());
    }

    public Optional<Fleet> fleet(String namespace, String name) throws SQLException {
        return one(FLEET_SELECT + " WHERE f.namespace = ? AND f.name = ?", Tx::fleet, namespace, name);
    }

    public List<Fleet> fleets(String namespace) throws SQLException {
        return all(FLEET_SELECT + " WHERE f.namespace = ? ORDER BY f.name", Tx::fleet, namespace);
    }

    public void deleteFleet(String namespace, String name) throws SQLException {
        update("DELETE FROM fleets WHERE namespace = ? AND name = ?", namespace, name);
    }

    /** How many machines (deleted ones not yet confirmed included) the fleet has. */
    public int fleetMachineCount(String namespace, String name) throws SQLException {
        return one("SELECT COUNT(*) FROM machines WHERE namespace = ? AND fleet = ?", rs -> rs.getInt(1),
                namespace, name).orElse(0);
    }

    private static Fleet fleet(ResultSet rs) throws SQLException {
        FleetSpec spec = JSON.readValue(rs.getString(3), FleetSpec.class);
        return new Fleet(rs.getString(1), rs.getString(2), spec.strategy(), spec.region(), spec.nodeLabels(),
                spec.config(), rs.getLong(6), rs.getInt(7), Instant.ofEpochMilli(rs.getLong(4)),
                Instant.ofEpochMilli(rs.getLong(5)));
    }

    // ---- nodes ----

    public void insertNode(NodeRow n) throws SQLException {
        update("INSERT INTO nodes (" + NODE_COLUMNS + ") VALUES (?,?,?,?,?,?,?,?,?,?,?)", n.id(), n.name(),
                n.health().wireName(), n.adminState().wireName(), JSON.writeValueAsString(n.labels()),
                JSON.writeValueAsString(n.drivers()),
                n.capacity().cpus(), n.capacity().memoryMb(), n.heartbeatAt().toEpochMilli(), n.assignIndex(),
                n.joinedAt().toEpochMilli());
    }

    public Optional<NodeRow> node(String id) throws SQLException {
        return one("SELECT " + NODE_COLUMNS + " FROM nodes WHERE id = ?", Tx::node, id);
    }

    public List<NodeRow> nodes() throws SQLException {
        return all("SELECT " + NODE_COLUMNS + " FROM nodes ORDER BY id", Tx::node);
    }

    /** Records a heartbeat: capacity, drivers, time, and health {@code ready}. */
    public void heartbeat(String id, Capacity capacity, List<Driver> drivers, Instant now) throws SQLException {
        update("UPDATE nodes SET capacity_cpus = ?, capacity_memory_mb = ?, drivers = ?, heartbeat_at = ?, "
                + "health = " + READY + " WHERE id = ?", capacity.cpus(), capacity.memoryMb(),
                JSON.writeValueAsString(drivers), now.toEpochMilli(), id);
    }

    /** Sets the node's administrative state: ready, cordoned or draining. */
    public void setAdminState(String id, NodeState adminState) throws SQLException {
        update("UPDATE nodes SET admin_state = ? WHERE id = ?", adminState.wireName(), id);
    }

    /** Marks the node down if its last heartbeat is still before {@code cutoff}; whether it did. */
    public boolean markDown(String id, Instant cutoff) throws SQLException {
        return update("UPDATE nodes SET health = " + DOWN + " WHERE id = ? AND health = " + READY
                + " AND heartbeat_at < ?",
                id, cutoff.toEpochMilli()) > 0;
    }

    /** Ready nodes whose last heartbeat is before {@code cutoff}. */
    public List<String> silentNodes(Instant cutoff) throws SQLException {
        return all("SELECT id FROM nodes WHERE health = " + READY + " AND heartbeat_at < ? ORDER BY id",
                rs -> rs.getString(1), cutoff.toEpochMilli());
    }

    /** Stamps the node's assignments as changed at this transaction's index. */
    public void touchAssignments(String nodeId) throws SQLException {
        update("UPDATE nodes SET assign_index = ? WHERE id = ?", index(), nodeId);
    }

    /** Per node id, what its machines ask for. */
    public Map<String, Allocation> allocations() throws SQLException {
        var out = new HashMap<String, Allocation>();
        for (var row : all("SELECT node_id, COUNT(*), SUM(cpus), SUM(memory_mb) FROM machines "
                + "WHERE node_id IS NOT NULL GROUP BY node_id",
                rs -> Map.entry(rs.getString(1), new Allocation(rs.getInt(2), rs.getInt(3), rs.getLong(4))))) {
            out.put(row.getKey(), row.getValue());
        }
        return out;
    }

    /** What the node's machines ask for; empty when it has none. */
    public Optional<Allocation> allocation(String nodeId) throws SQLException {
        return one("SELECT COUNT(*), SUM(cpus), SUM(memory_mb) FROM machines WHERE node_id = ?",
                rs -> new Allocation(rs.getInt(1), rs.getInt(2), rs.getLong(3)), nodeId)
                .filter(a -> a.machines() > 0);
    }

    /**
     * Per node id, the ports its machines publish, deleted machines not yet confirmed gone included (their node may
     * still hold the ports). Only configs with services are parsed: most machines publish none.
     */
    public Map<String, List<MachineSpec.Service>> publishedPorts() throws SQLException {
        var out = new HashMap<String, List<MachineSpec.Service>>();
        for (var row : all("SELECT node_id, spec FROM machines WHERE node_id IS NOT NULL AND " + PUBLISHES,
                rs -> Map.entry(rs.getString(1), services(rs.getString(2))))) {
            out.computeIfAbsent(row.getKey(), k -> new ArrayList<>()).addAll(row.getValue());
        }
        return out;
    }

    /** The ports the node's machines publish, as {@link #publishedPorts()} counts them. */
    public List<MachineSpec.Service> publishedPorts(String nodeId) throws SQLException {
        var out = new ArrayList<MachineSpec.Service>();
        for (var services : all("SELECT spec FROM machines WHERE node_id = ? AND " + PUBLISHES,
                rs -> services(rs.getString(1)), nodeId)) {
            out.addAll(services);
        }
        return out;
    }

    private static List<MachineSpec.Service> services(String spec) {
        return JSON.readValue(spec, MachineSpec.class).services();
    }

    /** How many live machines of each fleet ({@code namespace/fleet}) the node has. */
    public Map<String, Integer> fleetCounts(String nodeId) throws SQLException {
        var out = new HashMap<String, Integer>();
        for (var row : all("SELECT namespace, fleet, COUNT(*) FROM machines "
                + "WHERE node_id = ? AND desired_state <> " + DESTROYED + " GROUP BY namespace, fleet",
                rs -> Map.entry(rs.getString(1) + "/" + rs.getString(2), rs.getInt(3)), nodeId)) {
            out.put(row.getKey(), row.getValue());
        }
        return out;
    }

    /** Per node id, how many live machines of each fleet ({@code namespace/fleet}) it has. */
    public Map<String, Map<String, Integer>> fleetCounts() throws SQLException {
        var out = new HashMap<String, Map<String, Integer>>();
        for (var row : all("SELECT node_id, namespace, fleet, COUNT(*) FROM machines "
                + "WHERE node_id IS NOT NULL AND desired_state <> " + DESTROYED + " GROUP BY node_id, namespace, fleet",
                rs -> List.of(rs.getString(1), rs.getString(2) + "/" + rs.getString(3), rs.getString(4)))) {
            out.computeIfAbsent(row.get(0), k -> new HashMap<>()).put(row.get(1), Integer.parseInt(row.get(2)));
        }
        return out;
    }

    private static NodeRow node(ResultSet rs) throws SQLException {
        return new NodeRow(rs.getString(1), rs.getString(2), NodeState.parse(rs.getString(3)),
                NodeState.parse(rs.getString(4)),
                PARSED_LABELS.parse(rs.getString(5)), PARSED_DRIVERS.parse(rs.getString(6)),
                new Capacity(rs.getInt(7), rs.getLong(8)), Instant.ofEpochMilli(rs.getLong(9)), rs.getLong(10),
                Instant.ofEpochMilli(rs.getLong(11)));
    }

    // ---- machines ----

    public void insertMachine(MachineRow m) throws SQLException {
        update("INSERT INTO machines (" + MACHINE_COLUMNS + ") VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                m.id(), m.namespace(), m.fleet(), m.name(), JSON.writeValueAsString(m.spec()), m.cpus(),
                m.memoryMb(), m.region(), JSON.writeValueAsString(m.nodeLabels()), m.desiredState().wireName(),
                m.stop() == null ? null : JSON.writeValueAsString(m.stop()), m.generation(),
                m.nodeId(), m.observedState().wireName(), m.imageDigest(), m.exitCode(), m.error(), m.modifyIndex(),
                m.createdAt().toEpochMilli(), m.updatedAt().toEpochMilli(), m.configVersion());
    }

    /** A machine by id, whatever its state. */
    public Optional<MachineRow> machine(String id) throws SQLException {
        return one("SELECT " + MACHINE_COLUMNS + " FROM machines WHERE id = ?", Tx::machine, id);
    }

    /** Whether the namespace has a live (not deleted) machine of this name. */
    public boolean liveMachineNamed(String namespace, String name) throws SQLException {
        return one("SELECT 1 FROM machines WHERE namespace = ? AND name = ? AND desired_state <> " + DESTROYED,
                rs -> true, namespace, name).isPresent();
    }

    /** A namespace's live (not deleted) machines, optionally of one fleet, oldest first. */
    public List<MachineRow> machines(String namespace, Optional<String> fleet) throws SQLException {
        if (fleet.isPresent()) {
            return all("SELECT " + MACHINE_COLUMNS + " FROM machines WHERE namespace = ? AND fleet = ? "
                    + "AND desired_state <> " + DESTROYED + " ORDER BY created_at, id", Tx::machine, namespace,
                    fleet.get());
        }
        return all("SELECT " + MACHINE_COLUMNS + " FROM machines WHERE namespace = ? "
                + "AND desired_state <> " + DESTROYED + " ORDER BY created_at, id", Tx::machine, namespace);
    }

    /** Every machine assigned to the node, deleted ones not yet confirmed included. */
    public List<MachineRow> machinesOn(String nodeId) throws SQLException {
        return all("SELECT " + MACHINE_COLUMNS + " FROM machines WHERE node_id = ? ORDER BY id", Tx::machine, nodeId);
    }

    /** The ids of the deleted machines still assigned to the node (its heartbeat has not confirmed them gone). */
    public List<String> deletedOn(String nodeId) throws SQLException {
        return all("SELECT id FROM machines WHERE node_id = ? AND desired_state = " + DESTROYED, rs -> rs.getString(1),
                nodeId);
    }

    /** Live machines that want to run and have no node. */
    public List<MachineRow> unplaced() throws SQLException {
        return all("SELECT " + MACHINE_COLUMNS + " FROM machines WHERE node_id IS NULL AND desired_state = " + RUNNING
                + "ORDER BY created_at, id", Tx::machine);
    }

    /** Live machines on draining nodes whose policy moves them. */
    public List<MachineRow> onDrainingNodes() throws SQLException {
        return all("SELECT " + prefixed("m") + " FROM machines m JOIN nodes n ON m.node_id = n.id "
                + "WHERE n.admin_state = " + DRAINING + " AND m.desired_state <> " + DESTROYED
                + " ORDER BY m.created_at, m.id",
                Tx::machine);
    }

    /** Changes what the machine's node must do with it: bumps its generation and stamps this index. */
    public void setDesired(String id, MachineState desiredState, MachineSpec.Stop stop, Instant now)
            throws SQLException {
        update("UPDATE machines SET desired_state = ?, stop_request = ?, generation = generation + 1, "
                + "modify_index = ?, updated_at = ? WHERE id = ?", desiredState.wireName(),
                stop == null ? null : JSON.writeValueAsString(stop), index(), now.toEpochMilli(), id);
    }

    /**
     * Assigns the machine to {@code nodeId} (null: to no node) with a fresh observed state: {@code created} and no exit
     * code; {@code error} says why it has no node, or null.
     */
    public void assign(String id, String nodeId, String error, Instant now) throws SQLException {
        update("UPDATE machines SET node_id = ?, observed_state = " + CREATED + ", image_digest = NULL, "
                + "exit_code = NULL, error = ?, generation = generation + 1, modify_index = ?, updated_at = ? WHERE id = ?",
                nodeId, error, index(), now.toEpochMilli(), id);
    }

    /** Takes a machine off its node for good: failed, with {@code error}, desired stopped. */
    public void fail(String id, String error, Instant now) throws SQLException {
        update("UPDATE machines SET node_id = NULL, observed_state = " + FAILED + ", error = ?, desired_state = "
                + "CASE WHEN desired_state = " + DESTROYED + " THEN " + DESTROYED + " ELSE " + STOPPED + " END, "
                + "generation = generation + 1, modify_index = ?, updated_at = ? WHERE id = ?",
                error, index(), now.toEpochMilli(), id);
    }

    /** Records what the machine's node reports, if it is still assigned there; whether anything changed. */
    public boolean observe(String nodeId, String id, MachineState state, String imageDigest, Integer exitCode,
                           String error, Instant now) throws SQLException {
        return update("UPDATE machines SET observed_state = ?, image_digest = ?, exit_code = ?, error = ?, "
                + "updated_at = ? WHERE id = ? AND node_id = ? AND NOT (observed_state = ? "
                + "AND COALESCE(image_digest, '') = ? AND COALESCE(exit_code, -1) = ? AND COALESCE(error, '') = ?)",
                state.wireName(), imageDigest, exitCode, error, now.toEpochMilli(), id, nodeId, state.wireName(),
                imageDigest == null ? "" : imageDigest, exitCode == null ? -1 : exitCode,
                error == null ? "" : error) > 0;
    }

    /** Sets why the machine has no node; whether it changed. */
    public boolean setError(String id, String error, Instant now) throws SQLException {
        return update("UPDATE machines SET error = ?, updated_at = ? WHERE id = ? AND COALESCE(error, '') <> ?",
                error, now.toEpochMilli(), id, error) > 0;
    }

    /** Deletes the row of a deleted machine. */
    public void purge(String id) throws SQLException {
        update("DELETE FROM machines WHERE id = ? AND desired_state = " + DESTROYED, id);
    }

    /** Deleted machines on no node, whose rows can go. */
    public List<String> orphanedDeleted() throws SQLException {
        return all("SELECT id FROM machines WHERE node_id IS NULL AND desired_state = " + DESTROYED,
                rs -> rs.getString(1));
    }

    private static String literal(String value) {
        return "'" + value + "'";
    }

    private static String prefixed(String alias) {
        return alias + "." + MACHINE_COLUMNS.replace(", ", ", " + alias + ".");
    }

    private static MachineRow machine(ResultSet rs) throws SQLException {
        int exit = rs.getInt("exit_code");
        Integer exitCode = rs.wasNull() ? null : exit;
        String stop = rs.getString("stop_request");
        return new MachineRow(rs.getString("id"), rs.getString("namespace"), rs.getString("fleet"),
                rs.getString("name"), JSON.readValue(rs.getString("spec"), MachineSpec.class),
                rs.getString("region"), JSON.readValue(rs.getString("node_labels"), LABELS),
                MachineState.parse(rs.getString("desired_state")),
                stop == null ? null : JSON.readValue(stop, MachineSpec.Stop.class),
                rs.getLong("generation"), rs.getString("node_id"), MachineState.parse(rs.getString("observed_state")),
                rs.getString("image_digest"), exitCode, rs.getString("error"), rs.getLong("modify_index"),
                Instant.ofEpochMilli(rs.getLong("created_at")), Instant.ofEpochMilli(rs.getLong("updated_at")),
                rs.getLong("config_version"));
    }

    // ---- streams ----

    /** Inserts a stream request for {@code nodeId}, held by replica {@code replicaId}. */
    public void insertStream(String nodeId, StreamRequest stream, String replicaId, Instant now) throws SQLException {
        update("INSERT INTO streams (id, node_id, machine_id, kind, params, body, replica_id, replica_url, created_at) "
                + "VALUES (?,?,?,?,?,?,?,?,?)", stream.id(), nodeId, stream.machineId(), stream.kind(),
                JSON.writeValueAsString(stream.params()), stream.body(), replicaId, stream.server().toString(),
                now.toEpochMilli());
    }

    /** The node's stream requests created after {@code since}, oldest first. */
    public List<StreamRequest> streamsOn(String nodeId, Instant since) throws SQLException {
        return all("SELECT id, machine_id, kind, params, body, replica_url FROM streams "
                + "WHERE node_id = ? AND created_at > ? ORDER BY created_at, id",
                rs -> new StreamRequest(rs.getString(1), rs.getString(2), rs.getString(3),
                        JSON.readValue(rs.getString(4), LABELS), rs.getString(5), URI.create(rs.getString(6))),
                nodeId, since.toEpochMilli());
    }

    /** Deletes a stream request; whether it existed. */
    public boolean deleteStream(String id) throws SQLException {
        return update("DELETE FROM streams WHERE id = ?", id) > 0;
    }

    /** Deletes the stream requests created before {@code before} (left by a replica that died). */
    public void deleteStreamsBefore(Instant before) throws SQLException {
        update("DELETE FROM streams WHERE created_at <= ?", before.toEpochMilli());
    }

    // ---- plumbing ----

    @FunctionalInterface
    private interface Reader<T> {
        T read(ResultSet rs) throws SQLException;
    }

    private int update(String sql, Object... args) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            bind(ps, args);
            return ps.executeUpdate();
        }
    }

    private <T> Optional<T> one(String sql, Reader<T> reader, Object... args) throws SQLException {
        List<T> rows = all(sql, reader, args);
        return rows.isEmpty() ? Optional.empty() : Optional.of(rows.getFirst());
    }

    private <T> List<T> all(String sql, Reader<T> reader, Object... args) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            bind(ps, args);
            var out = new ArrayList<T>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) out.add(reader.read(rs));
            }
            return out;
        }
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
    private static final class ParseCache<T> {
        private static final int MAX = 4096;
        private final TypeReference<T> type;
        private final java.util.concurrent.ConcurrentHashMap<String, T> parsed =
                new java.util.concurrent.ConcurrentHashMap<>();

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
