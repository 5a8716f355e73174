package dev.bolero.server.store;

import static dev.bolero.server.store.Statements.JSON;

import dev.bolero.core.MachineSpec;
import dev.bolero.core.MachineState;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * What nodes hold, as placement reads it: per node, the resources its machines ask for, how many machines of each
 * fleet it has and the host ports they publish; over every node or over a few (the plan applier's re-check), each in
 * one statement. Deleted machines not yet confirmed gone count: their node may still run them.
 */
public final class AllocationStore {
    private static final String DESTROYED = Statements.literal(MachineState.DESTROYED.wireName());
    /** Matches the machines whose spec may publish ports: the mapper writes an empty list as {@code []}. */
    private static final String PUBLISHES = "spec NOT LIKE '%\"services\":[]%'";

    private final Statements sql;

    AllocationStore(Statements sql) {
        this.sql = sql;
    }

    /** Per node: how many machines, and what they ask for in total. */
    public record Allocation(int machines, int cpus, long memoryMb) {}

    /** Per node id, what its machines ask for; nodes without machines are absent. */
    public Map<String, Allocation> all() throws SQLException {
        return allocations("", List.of());
    }

    /** Per node id of {@code nodeIds}, what its machines ask for; nodes without machines are absent. */
    public Map<String, Allocation> of(Collection<String> nodeIds) throws SQLException {
        return nodeIds.isEmpty() ? Map.of() : allocations(" AND node_id IN " + Statements.placeholders(nodeIds), nodeIds);
    }

    private Map<String, Allocation> allocations(String where, Collection<String> args) throws SQLException {
        var out = new HashMap<String, Allocation>();
        for (var row : sql.all("SELECT node_id, COUNT(*), SUM(cpus), SUM(memory_mb) FROM machines "
                + "WHERE node_id IS NOT NULL" + where + " GROUP BY node_id",
                rs -> Map.entry(rs.getString(1), new Allocation(rs.getInt(2), rs.getInt(3), rs.getLong(4))),
                args.toArray())) {
            out.put(row.getKey(), row.getValue());
        }
        return out;
    }

    /** Per node id, how many live machines of each fleet ({@code namespace/fleet}) it has. */
    public Map<String, Map<String, Integer>> fleetCounts() throws SQLException {
        return fleetCounts("", List.of());
    }

    /** {@link #fleetCounts()} for the nodes of {@code nodeIds}. */
    public Map<String, Map<String, Integer>> fleetCounts(Collection<String> nodeIds) throws SQLException {
        return nodeIds.isEmpty() ? Map.of()
                : fleetCounts(" AND node_id IN " + Statements.placeholders(nodeIds), nodeIds);
    }

    private Map<String, Map<String, Integer>> fleetCounts(String where, Collection<String> args) throws SQLException {
        var out = new HashMap<String, Map<String, Integer>>();
        for (var row : sql.all("SELECT node_id, namespace, fleet, COUNT(*) FROM machines WHERE node_id IS NOT NULL "
                + "AND desired_state <> " + DESTROYED + where + " GROUP BY node_id, namespace, fleet",
                rs -> List.of(rs.getString(1), rs.getString(2) + "/" + rs.getString(3), rs.getString(4)),
                args.toArray())) {
            out.computeIfAbsent(row.get(0), k -> new HashMap<>()).put(row.get(1), Integer.parseInt(row.get(2)));
        }
        return out;
    }

    /**
     * Per node id, the ports its machines publish, deleted machines not yet confirmed gone included (their node may
     * still hold the ports). Only specs with services are parsed: most machines publish none.
     */
    public Map<String, List<MachineSpec.Service>> publishedPorts() throws SQLException {
        return publishedPorts("", List.of());
    }

    /** {@link #publishedPorts()} for the nodes of {@code nodeIds}. */
    public Map<String, List<MachineSpec.Service>> publishedPorts(Collection<String> nodeIds) throws SQLException {
        return nodeIds.isEmpty() ? Map.of()
                : publishedPorts(" AND node_id IN " + Statements.placeholders(nodeIds), nodeIds);
    }

    private Map<String, List<MachineSpec.Service>> publishedPorts(String where, Collection<String> args)
            throws SQLException {
        var out = new HashMap<String, List<MachineSpec.Service>>();
        for (var row : sql.all("SELECT node_id, spec FROM machines WHERE node_id IS NOT NULL AND " + PUBLISHES + where,
                rs -> Map.entry(rs.getString(1), JSON.readValue(rs.getString(2), MachineSpec.class).services()),
                args.toArray())) {
            out.computeIfAbsent(row.getKey(), k -> new ArrayList<>()).addAll(row.getValue());
        }
        return out;
    }
}
