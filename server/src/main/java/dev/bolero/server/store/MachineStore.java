package dev.bolero.server.store;

import static dev.bolero.server.store.Statements.JSON;

import dev.bolero.api.wire.MachineReport;
import dev.bolero.core.CheckStatus;
import dev.bolero.core.MachineSpec;
import dev.bolero.core.MachineState;
import dev.bolero.core.NodeState;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import tools.jackson.core.type.TypeReference;

/**
 * Machines: desired state and assignment (written by the API and the reconciler) and observed state (written by the
 * heartbeats of the node a machine is on), in one {@link Tx}. Changes to what a node must do bump the machine's
 * generation and stamp it with the transaction's state index.
 */
public final class MachineStore {
    /**
     * Specs and labels by their stored text: a fleet's machines share them, and polls and heartbeats read the same rows
     * again and again (both values are immutable).
     */
    private static final Statements.ParseCache<MachineSpec> SPECS = new Statements.ParseCache<>(new TypeReference<>() {});
    private static final Statements.TextCache<MachineSpec> SPEC_TEXTS = new Statements.TextCache<>();
    private static final Statements.ParseCache<Map<String, String>> LABELS =
            new Statements.ParseCache<>(new TypeReference<>() {});
    private static final TypeReference<List<CheckStatus>> CHECKS = new TypeReference<>() {};
    private static final String RUNNING = Statements.literal(MachineState.RUNNING.wireName());
    private static final String STOPPED = Statements.literal(MachineState.STOPPED.wireName());
    private static final String DESTROYED = Statements.literal(MachineState.DESTROYED.wireName());
    private static final String CREATED = Statements.literal(MachineState.CREATED.wireName());
    private static final String FAILED = Statements.literal(MachineState.FAILED.wireName());
    private static final String DRAINING = Statements.literal(NodeState.DRAINING.wireName());
    private static final String COLUMNS = "id, namespace, fleet, name, spec, cpus, memory_mb, region, "
            + "node_labels, desired_state, stop_request, generation, node_id, observed_state, image_digest, "
            + "exit_code, error, modify_index, created_at, updated_at, config_version, version";
    /** What a row read carries: the inserted columns and the private address and checks its node reports. */
    private static final String READ = COLUMNS + ", private_ip, checks";
    private static final String INSERT = "INSERT INTO machines (" + COLUMNS
            + ") VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)";
    private static final String ASSIGN = "UPDATE machines SET node_id = ?, observed_state = " + CREATED
            + ", image_digest = NULL, exit_code = NULL, private_ip = NULL, checks = NULL, error = ?, generation = generation + 1, "
            + "modify_index = ?, "
            + "updated_at = ? WHERE id = ?";

    private final Statements sql;
    private final Tx tx;

    MachineStore(Statements sql, Tx tx) {
        this.sql = sql;
        this.tx = tx;
    }

    /**
     * An assignment to write: the machine goes to {@code nodeId} (null: to no node) with a fresh observed state.
     *
     * @param error why it has no node, or null
     */
    public record Assignment(String machineId, String nodeId, String error) {}

    /**
     * Inserts the machines, in one statement queued to go with the transaction's next ({@link Statements#deferRows});
     * a duplicate name in a namespace is a unique violation, there.
     */
    public void insert(List<MachineRow> machines) throws SQLException {
        var rows = new ArrayList<Object[]>(machines.size());
        for (MachineRow m : machines) {
            rows.add(new Object[] {m.id(), m.namespace(), m.fleet(), m.name(), SPEC_TEXTS.text(m.spec()),
                m.cpus(), m.memoryMb(), m.region(), JSON.writeValueAsString(m.nodeLabels()),
                m.desiredState().wireName(), m.stop() == null ? null : JSON.writeValueAsString(m.stop()),
                m.generation(), m.nodeId(), m.observedState().wireName(), m.reported().imageDigest(),
                m.reported().exitCode(), m.error(),
                m.modifyIndex(), m.createdAt().toEpochMilli(), m.updatedAt().toEpochMilli(), m.configVersion(), m.version()});
        }
        sql.deferRows(INSERT, rows);
    }

    /** A machine by id, whatever its state. */
    public Optional<MachineRow> get(String id) throws SQLException {
        return sql.one("SELECT " + READ + " FROM machines WHERE id = ?", MachineStore::machine, id);
    }

    /** The machines of these ids that exist, whatever their state, in one statement. */
    public List<MachineRow> get(Collection<String> ids) throws SQLException {
        return sql.in("SELECT " + READ + " FROM machines WHERE id", MachineStore::machine, ids);
    }

    /**
     * Which of {@code names} the namespace's machines already use, in one statement, queued ({@link Later}): each
     * taken name with whether its machine is deleted (a deleted machine's name stays taken until its node confirms it
     * gone).
     *
     * <p>On PostgreSQL it is planned for its arguments and the table's current size each time it runs (it stays
     * prepared: not parsed again): a plan kept from a new cluster's first statistics (a nearly empty table) would read
     * every machine of the namespace, by a scan of the table or by the namespace's index, until the table is analyzed
     * again, up to autovacuum's minute later: milliseconds on a namespace of thousands instead of one lookup per name.
     * The setting is the transaction's from just before the statement to just after it, and costs no round trip.
     */
    public Later<Map<String, Boolean>> taken(String namespace, Collection<String> names) throws SQLException {
        if (names.isEmpty()) return Later.of(Map.of());
        var args = new ArrayList<Object>();
        args.add(namespace);
        args.addAll(names);
        if (sql.postgres()) sql.defer("SET LOCAL plan_cache_mode = force_custom_plan");
        var rows = sql.later("SELECT name, desired_state FROM machines WHERE namespace = ? AND name IN "
                + Statements.placeholders(names), rs -> Map.entry(rs.getString(1),
                MachineState.parse(rs.getString(2)) == MachineState.DESTROYED), args.toArray());
        if (sql.postgres()) sql.defer("SET LOCAL plan_cache_mode TO DEFAULT");
        return rows.map(list -> {
            var out = new HashMap<String, Boolean>();
            for (var row : list) out.put(row.getKey(), row.getValue());
            return out;
        });
    }

    /** A namespace's live (not deleted) machines, optionally of one fleet, oldest first. */
    public List<MachineRow> list(String namespace, Optional<String> fleet) throws SQLException {
        if (fleet.isPresent()) {
            return sql.all("SELECT " + READ + " FROM machines WHERE namespace = ? AND fleet = ? "
                    + "AND desired_state <> " + DESTROYED + " ORDER BY created_at, id", MachineStore::machine,
                    namespace, fleet.get());
        }
        return sql.all("SELECT " + READ + " FROM machines WHERE namespace = ? "
                + "AND desired_state <> " + DESTROYED + " ORDER BY created_at, id", MachineStore::machine, namespace);
    }

    /** One page of a namespace's live machines, optionally of one fleet, by id. */
    public List<MachineRow> list(String namespace, Optional<String> fleet, Page page) throws SQLException {
        String live = "SELECT " + READ + " FROM machines WHERE namespace = ? AND desired_state <> " + DESTROYED;
        if (fleet.isPresent()) {
            return sql.all(live + " AND fleet = ? AND " + Page.sql("id"), MachineStore::machine,
                    page.args(namespace, fleet.get()));
        }
        return sql.all(live + " AND " + Page.sql("id"), MachineStore::machine, page.args(namespace));
    }

    /** How many machines (deleted ones not yet confirmed included) the fleet has. */
    public int countInFleet(String namespace, String fleet) throws SQLException {
        return sql.one("SELECT COUNT(*) FROM machines WHERE namespace = ? AND fleet = ?", rs -> rs.getInt(1),
                namespace, fleet).orElse(0);
    }

    /** Every machine assigned to the node, deleted ones not yet confirmed included. */
    public List<MachineRow> on(String nodeId) throws SQLException {
        return sql.all("SELECT " + READ + " FROM machines WHERE node_id = ? ORDER BY id", MachineStore::machine,
                nodeId);
    }

    /** Live machines that want to run and have no node, oldest first. */
    public List<MachineRow> unplaced() throws SQLException {
        return sql.all("SELECT " + READ + " FROM machines WHERE node_id IS NULL AND desired_state = " + RUNNING
                + " ORDER BY created_at, id", MachineStore::machine);
    }

    /** Live machines on draining nodes, oldest first. */
    public List<MachineRow> onDrainingNodes() throws SQLException {
        return sql.all("SELECT " + prefixed("m") + " FROM machines m JOIN nodes n ON m.node_id = n.id "
                + "WHERE n.admin_state = " + DRAINING + " AND m.desired_state <> " + DESTROYED
                + " ORDER BY m.created_at, m.id", MachineStore::machine);
    }

    /** Deleted machines on no node, whose rows can go. */
    public List<String> orphanedDeleted() throws SQLException {
        return sql.all("SELECT id FROM machines WHERE node_id IS NULL AND desired_state = " + DESTROYED,
                rs -> rs.getString(1));
    }

    /** Changes what the machine's node must do with it: bumps its generation and stamps this index. */
    public void setDesired(String id, MachineState desiredState, MachineSpec.Stop stop, Instant now)
            throws SQLException {
        sql.update("UPDATE machines SET desired_state = ?, stop_request = ?, generation = generation + 1, "
                + "modify_index = ?, updated_at = ? WHERE id = ?", desiredState.wireName(),
                stop == null ? null : JSON.writeValueAsString(stop), tx.index(), now.toEpochMilli(), id);
    }

    /**
     * Gives the machine {@code spec} in place: bumps its version and its generation (its node replaces it) and stamps
     * this index.
     */
    public void respec(String id, MachineSpec spec, Instant now) throws SQLException {
        sql.update("UPDATE machines SET spec = ?, cpus = ?, memory_mb = ?, version = version + 1, "
                + "generation = generation + 1, modify_index = ?, updated_at = ? WHERE id = ?",
                SPEC_TEXTS.text(spec), spec.guest().cpus(), spec.guest().memoryMb(), tx.index(),
                now.toEpochMilli(), id);
    }

    /**
     * Writes the assignments, in one batch: each machine goes to its node (or to none) with a fresh observed state,
     * {@code created} and no exit code.
     */
    public void assign(List<Assignment> assignments, Instant now) throws SQLException {
        var rows = new ArrayList<Object[]>(assignments.size());
        for (Assignment a : assignments) {
            rows.add(new Object[] {a.nodeId(), a.error(), tx.index(), now.toEpochMilli(), a.machineId()});
        }
        sql.batch(ASSIGN, rows);
    }

    /** Takes a machine off its node for good: failed, with {@code error}, desired stopped. */
    public void fail(String id, String error, Instant now) throws SQLException {
        sql.update("UPDATE machines SET node_id = NULL, observed_state = " + FAILED + ", error = ?, desired_state = "
                + "CASE WHEN desired_state = " + DESTROYED + " THEN " + DESTROYED + " ELSE " + STOPPED + " END, "
                + "generation = generation + 1, modify_index = ?, updated_at = ? WHERE id = ?",
                error, tx.index(), now.toEpochMilli(), id);
    }

    /**
     * A machine on a node as a report about it is compared with: its namespace, what was last reported, and whether it
     * is deleted.
     */
    public record Seen(String namespace, Reported reported, boolean deleted) {
        /** Its private DNS record's address: its private address while it is reported running, else null. */
        String dnsAddress() {
            return dnsAddress(reported);
        }

        static String dnsAddress(Reported reported) {
            return reported.state() == MachineState.RUNNING ? reported.privateIp() : null;
        }
    }

    /** The columns {@link #seen} reads. */
    static final String SEEN_COLUMNS = "id, namespace, observed_state, image_digest, exit_code, error, private_ip, "
            + "checks, desired_state";

    /** The machines on node {@code nodeId}, deleted ones included, as its reports are compared with them, by id. */
    public Map<String, Seen> seenOn(String nodeId) throws SQLException {
        var seen = new HashMap<String, Seen>();
        sql.all("SELECT " + SEEN_COLUMNS + " FROM machines WHERE node_id = ?",
                rs -> seen.put(rs.getString("id"), seen(rs)), nodeId);
        return seen;
    }

    /** The machine of the current row, read by the names of {@link #SEEN_COLUMNS}. */
    static Seen seen(ResultSet rs) throws SQLException {
        return new Seen(rs.getString("namespace"), reported(rs),
                MachineState.parse(rs.getString("desired_state")) == MachineState.DESTROYED);
    }

    /**
     * What a node's report changes of the machines on it ({@link #compare}), for {@link #observe} to write.
     *
     * @param nodeId the node
     * @param changed the reports of machines on the node whose observed state changed
     * @param gone the deleted machines on the node it no longer reports: their rows go
     * @param dnsChanged the namespaces whose private DNS records on the node change: a machine reaches or leaves
     *     {@code running} with a private address, gets another address, or its deleted row goes
     */
    public record Observation(String nodeId, List<MachineReport> changed, List<String> gone, Set<String> dnsChanged) {
        /** Whether there is anything to write. */
        public boolean writes() {
            return !changed.isEmpty() || !gone.isEmpty();
        }
    }

    /**
     * What {@code reports} change of the machines on their node {@code nodeId}, {@code seen} ({@link #seenOn}):
     * reports of machines elsewhere are ignored.
     */
    public static Observation compare(String nodeId, Map<String, Seen> seen, List<MachineReport> reports) {
        var changed = new ArrayList<MachineReport>();
        var reported = new HashSet<String>();
        var dnsChanged = new HashSet<String>();
        for (MachineReport r : reports) {
            reported.add(r.id());
            Seen before = seen.get(r.id());
            Reported latest = Reported.of(r);
            if (before == null || before.reported().equals(latest)) continue;
            if (!Objects.equals(before.dnsAddress(), Seen.dnsAddress(latest))) dnsChanged.add(before.namespace());
            changed.add(r);
        }
        var gone = new ArrayList<String>();
        seen.forEach((id, s) -> {
            if (s.deleted() && !reported.contains(id)) {
                gone.add(id);
                if (s.dnsAddress() != null) dnsChanged.add(s.namespace());
            }
        });
        return new Observation(nodeId, changed, gone, dnsChanged);
    }

    /**
     * Writes what nodes reported ({@link #compare}), in two statement batches at most: the changed observed states of
     * the machines still assigned to their node, and the deletion of the rows that are gone; each in the order of the
     * machines' ids (the row locks' order), one machine's states in the order of {@code observations}.
     */
    public void observe(List<Observation> observations, Instant now) throws SQLException {
        var updates = new ArrayList<Object[]>();
        var gone = new ArrayList<Object[]>();
        for (Observation observation : observations) {
            for (MachineReport r : observation.changed()) {
                updates.add(new Object[] {r.state().wireName(), r.imageDigest(), r.exitCode(), r.error(),
                    r.privateIp(), r.checks().isEmpty() ? null : JSON.writeValueAsString(r.checks()),
                    now.toEpochMilli(), r.id(), observation.nodeId()});
            }
            for (String id : observation.gone()) gone.add(new Object[] {id});
        }
        updates.sort(Comparator.comparing(u -> (String) u[7])); // stable: one machine's states stay in order
        gone.sort(Comparator.comparing(u -> (String) u[0]));
        // IS NOT DISTINCT FROM (equal here: the node's id is never null) leaves the primary key the one index for it: a
        // plan cached from a nearly empty table's statistics used the node's index and walked every version of its
        // machines' rows.
        sql.batch("UPDATE machines SET observed_state = ?, image_digest = ?, exit_code = ?, error = ?, private_ip = ?, "
                + "checks = ?, updated_at = ? WHERE id = ? AND node_id IS NOT DISTINCT FROM ?", updates);
        sql.batch("DELETE FROM machines WHERE id = ? AND desired_state = " + DESTROYED, gone);
    }

    /** Sets why the machine has no node; whether it changed. */
    public boolean setError(String id, String error, Instant now) throws SQLException {
        return sql.update("UPDATE machines SET error = ?, updated_at = ? WHERE id = ? AND COALESCE(error, '') <> ?",
                error, now.toEpochMilli(), id, error) > 0;
    }

    /** Deletes the rows of the deleted machines still on node {@code nodeId} (which will never confirm them). */
    public void purgeDeletedOn(String nodeId) throws SQLException {
        sql.update("DELETE FROM machines WHERE node_id = ? AND desired_state = " + DESTROYED, nodeId);
    }

    /** Records that machine {@code id} (inserted in this transaction) is a clone of machine {@code sourceId}. */
    public void recordFork(String id, String sourceId) throws SQLException {
        sql.update("INSERT INTO machine_forks (machine_id, source_id) VALUES (?, ?)", id, sourceId);
    }

    /** The sources of those of the machines {@code ids} that are a fork's clones, by clone id. */
    public Map<String, String> forkSources(List<String> ids) throws SQLException {
        Map<String, String> sources = new java.util.HashMap<>();
        sql.in("SELECT machine_id, source_id FROM machine_forks WHERE machine_id",
                r -> sources.put(r.getString(1), r.getString(2)), ids);
        return sources;
    }

    /** Deletes the row of a deleted machine. */
    public void purge(String id) throws SQLException {
        sql.update("DELETE FROM machines WHERE id = ? AND desired_state = " + DESTROYED, id);
    }

    private static String prefixed(String alias) {
        return alias + "." + READ.replace(", ", ", " + alias + ".");
    }

    /** How many machines (not destroyed) are in each observed state. */
    public Map<String, Long> countByState() throws SQLException {
        var counts = new java.util.HashMap<String, Long>();
        sql.all("SELECT observed_state, COUNT(*) FROM machines WHERE desired_state <> 'destroyed' "
                + "GROUP BY observed_state", rs -> counts.put(rs.getString(1), rs.getLong(2)));
        return counts;
    }

    private static MachineRow machine(ResultSet rs) throws SQLException {
        String stop = rs.getString("stop_request");
        return new MachineRow(rs.getString("id"), rs.getString("namespace"), rs.getString("fleet"),
                rs.getString("name"), SPECS.parse(rs.getString("spec")),
                rs.getString("region"), LABELS.parse(rs.getString("node_labels")),
                MachineState.parse(rs.getString("desired_state")),
                stop == null ? null : JSON.readValue(stop, MachineSpec.Stop.class),
                rs.getLong("generation"), rs.getString("node_id"), reported(rs), rs.getLong("modify_index"),
                Instant.ofEpochMilli(rs.getLong("created_at")), Instant.ofEpochMilli(rs.getLong("updated_at")),
                rs.getLong("config_version"), rs.getLong("version"));
    }

    /** The observed columns of the row at {@code rs}, by name. */
    private static Reported reported(ResultSet rs) throws SQLException {
        int exit = rs.getInt("exit_code");
        Integer exitCode = rs.wasNull() ? null : exit;
        String checks = rs.getString("checks");
        return new Reported(MachineState.parse(rs.getString("observed_state")), rs.getString("image_digest"), exitCode,
                rs.getString("error"), rs.getString("private_ip"), checks == null ? List.of()
                        : JSON.readValue(checks, CHECKS));
    }
}
