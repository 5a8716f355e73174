package dev.bolero.server.store;

import static dev.bolero.server.store.Statements.JSON;

import dev.bolero.api.wire.Fleet;
import dev.bolero.api.wire.FleetSpec;
import dev.bolero.api.wire.Quota;
import dev.bolero.core.MachineState;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.StringJoiner;
import tools.jackson.core.type.TypeReference;

/** Fleets: a namespace's named machine templates with a placement strategy, in one {@link Tx}. */
public final class FleetStore {
    /** A fleet's columns and how many of its live machines were created from another config version (release). */
    private static final String SELECT = "SELECT f.namespace, f.name, f.config, f.created_at, f.updated_at, "
            + "f.config_version, (SELECT COUNT(*) FROM machines m WHERE m.namespace = f.namespace AND m.fleet = f.name "
            + "AND m.desired_state <> " + Statements.literal(MachineState.DESTROYED.wireName())
            + " AND m.config_version <> f.config_version) FROM fleets f";
    private static final TypeReference<List<Waiting>> WAITING = new TypeReference<>() {};
    /** Fleet specs by their text: every create in a fleet reads the same config. */
    private static final Statements.ParseCache<FleetSpec> SPECS = new Statements.ParseCache<>(new TypeReference<>() {});

    private final Statements sql;

    FleetStore(Statements sql) {
        this.sql = sql;
    }

    /**
     * What a fleet's new machines are made from.
     *
     * @param spec the fleet's spec: strategy, region, labels and machine config
     * @param configVersion the version of that config
     */
    public record Template(FleetSpec spec, long configVersion) {}

    /**
     * What a machine create in a fleet is checked against before it is placed.
     *
     * @param fleet the fleet's template
     * @param quota its namespace's quota; empty when none was set (unlimited)
     * @param stored the fleet as stored: a placement checks that it is still the same
     */
    public record Admission(Template fleet, Optional<Quota> quota, Stored stored) {}

    /**
     * A fleet as stored: its spec's JSON and its config version, what a machine made from it is checked against when
     * it is committed.
     */
    public record Stored(String spec, long configVersion) {}

    /**
     * Fleets as a batch of creates is committed against them ({@link #standing}).
     *
     * @param fleets each fleet as stored, by namespace and name; fleets that do not exist left out
     * @param quotas the quotas of the fleets' namespaces, empty for a namespace with none; a namespace none of whose
     *     fleets exist is left out
     */
    public record Standing(Map<List<String>, Stored> fleets, Map<String, Optional<Quota>> quotas) {}

    public void insert(String namespace, FleetSpec spec, Instant now) throws SQLException {
        sql.update("INSERT INTO fleets (namespace, name, config, created_at, updated_at) VALUES (?,?,?,?,?)",
                namespace, spec.name(), JSON.writeValueAsString(spec), now.toEpochMilli(), now.toEpochMilli());
    }

    /** Replaces an existing fleet's spec, its config being release {@code configVersion}. */
    public void update(String namespace, FleetSpec spec, long configVersion, Instant now) throws SQLException {
        sql.update("UPDATE fleets SET config = ?, config_version = ?, updated_at = ? WHERE namespace = ? AND name = ?",
                JSON.writeValueAsString(spec), configVersion, now.toEpochMilli(), namespace, spec.name());
    }

    /** The fleet as the API shows it, with the count of its machines on an older config. */
    public Optional<Fleet> get(String namespace, String name) throws SQLException {
        return sql.one(SELECT + " WHERE f.namespace = ? AND f.name = ?", FleetStore::fleet, namespace, name);
    }

    /** The fleet's template alone: one row, no count over its machines. */
    public Optional<Template> template(String namespace, String name) throws SQLException {
        return sql.one("SELECT config, config_version FROM fleets WHERE namespace = ? AND name = ?",
                FleetStore::template, namespace, name);
    }

    /**
     * The fleet's template and its namespace's quota ({@link QuotaStore#get}), in one statement: a create reads both
     * before it is placed.
     */
    public Optional<Admission> admission(String namespace, String name) throws SQLException {
        return sql.one("SELECT f.config, f.config_version, q.namespace, " + QuotaStore.LIMITS + " FROM fleets f "
                + "LEFT JOIN namespace_quotas q ON q.namespace = f.namespace WHERE f.namespace = ? AND f.name = ?",
                rs -> new Admission(template(rs), rs.getString(3) == null ? Optional.empty()
                        : Optional.of(QuotaStore.quota(rs, 4)), new Stored(rs.getString(1), rs.getLong(2))),
                namespace, name);
    }

    /**
     * {@code fleets} (each a namespace and a name) as stored, with their namespaces' quotas, in one statement: what a
     * batch of creates is committed against; queued ({@link Later}).
     */
    public Later<Standing> standing(Collection<List<String>> fleets) throws SQLException {
        if (fleets.isEmpty()) return Later.of(new Standing(Map.of(), Map.of()));
        var args = new ArrayList<Object>(fleets.size() * 2);
        var rows = new StringJoiner(",");
        for (List<String> fleet : fleets) {
            args.addAll(fleet);
            rows.add("(?,?)");
        }
        record Row(List<String> fleet, Stored stored, Optional<Quota> quota) {}
        return sql.later("SELECT f.namespace, f.name, f.config, f.config_version, q.namespace, "
                + QuotaStore.LIMITS + " FROM fleets f LEFT JOIN namespace_quotas q ON q.namespace = f.namespace"
                + " WHERE (f.namespace, f.name) IN (VALUES " + rows + ")", rs -> new Row(List.of(rs.getString(1),
                rs.getString(2)), new Stored(rs.getString(3), rs.getLong(4)), rs.getString(5) == null
                ? Optional.<Quota>empty() : Optional.of(QuotaStore.quota(rs, 6))), args.toArray()).map(found -> {
                    var stored = new HashMap<List<String>, Stored>();
                    var quotas = new HashMap<String, Optional<Quota>>();
                    for (Row row : found) {
                        stored.put(row.fleet(), row.stored());
                        quotas.put(row.fleet().getFirst(), row.quota());
                    }
                    return new Standing(stored, quotas);
                });
    }

    private static Template template(ResultSet rs) throws SQLException {
        return new Template(SPECS.parse(rs.getString(1)), rs.getLong(2));
    }

    public List<Fleet> list(String namespace) throws SQLException {
        return sql.all(SELECT + " WHERE f.namespace = ? ORDER BY f.name", FleetStore::fleet, namespace);
    }

    /** One page of the namespace's fleets, by name. */
    public List<Fleet> list(String namespace, Page page) throws SQLException {
        return sql.all(SELECT + " WHERE f.namespace = ? AND " + Page.sql("f.name"), FleetStore::fleet,
                page.args(namespace));
    }

    public void delete(String namespace, String name) throws SQLException {
        sql.update("DELETE FROM fleets WHERE namespace = ? AND name = ?", namespace, name);
    }

    /**
     * The fleet as the API shows it, without its regions' shares (which need its machines): {@link Fleet#regions()}
     * empty.
     */
    private static Fleet fleet(ResultSet rs) throws SQLException {
        FleetSpec spec = JSON.readValue(rs.getString(3), FleetSpec.class);
        return new Fleet(rs.getString(1), rs.getString(2), spec.strategy(), spec.region(), spec.nodeLabels(),
                spec.config(), rs.getLong(6), rs.getInt(7), Instant.ofEpochMilli(rs.getLong(4)),
                Instant.ofEpochMilli(rs.getLong(5)), spec.scale().map(s -> s.total()).orElse(null), spec.counts(),
                List.of());
    }

    /**
     * A fleet whose size the control plane keeps.
     *
     * @param spec its spec, with a {@link FleetSpec#scale()}
     * @param waiting why its last creates failed, by share ({@link #waiting})
     */
    public record Sized(String namespace, FleetSpec spec, Map<Optional<String>, String> waiting) {
        public Sized {
            waiting = Map.copyOf(waiting);
        }
    }

    /** Every fleet with a {@code count} or {@code counts}, in every namespace. */
    public List<Sized> sized() throws SQLException {
        return sql.all("SELECT namespace, config, waiting FROM fleets ORDER BY namespace, name",
                rs -> new Sized(rs.getString(1), JSON.readValue(rs.getString(2), FleetSpec.class),
                        waiting(rs.getString(3))))
                .stream().filter(f -> f.spec().scale().isPresent()).toList();
    }

    /**
     * Why the namespace's fleets (one of them when {@code fleet} is given) last failed to create the machines they
     * lack, by fleet name and share: the share's region, empty for machines of no particular region.
     */
    public Map<String, Map<Optional<String>, String>> waiting(String namespace, Optional<String> fleet)
            throws SQLException {
        String select = "SELECT name, waiting FROM fleets WHERE namespace = ? AND waiting IS NOT NULL";
        Statements.Reader<Map.Entry<String, Map<Optional<String>, String>>> row =
                rs -> Map.entry(rs.getString(1), waiting(rs.getString(2)));
        var rows = fleet.isPresent() ? sql.all(select + " AND name = ?", row, namespace, fleet.get())
                : sql.all(select, row, namespace);
        var out = new HashMap<String, Map<Optional<String>, String>>();
        rows.forEach(e -> out.put(e.getKey(), e.getValue()));
        return out;
    }

    /** Records why the fleet last failed to create machines, by share (empty: nothing failed). */
    public void setWaiting(String namespace, String name, Map<Optional<String>, String> waiting) throws SQLException {
        String json = waiting.isEmpty() ? null : JSON.writeValueAsString(waiting.entrySet().stream()
                .map(e -> new Waiting(e.getKey().orElse(null), e.getValue())).toList());
        sql.update("UPDATE fleets SET waiting = ? WHERE namespace = ? AND name = ?", json, namespace, name);
    }

    /** One share's reason as stored: its region (null: none) and the reason. */
    private record Waiting(String region, String reason) {}

    private static Map<Optional<String>, String> waiting(String json) {
        var out = new HashMap<Optional<String>, String>();
        if (json != null) {
            for (Waiting w : JSON.readValue(json, WAITING)) out.put(Optional.ofNullable(w.region()), w.reason());
        }
        return out;
    }
}
