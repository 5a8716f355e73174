package dev.bolero.server;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The invariants of a control plane after a load, over its store (read directly through JDBC) and its nodes' reports
 * (the {@link FakeAgent}s' last heartbeats). {@link #check} lists every violation found; none means they hold:
 * <ul>
 *   <li>every acknowledged create that was not deleted exists exactly once, under its id and name, not destroyed;</li>
 *   <li>every acknowledged delete is gone from the store;</li>
 *   <li>no machine is reported running by two nodes, and a machine a node reports running is assigned to it;</li>
 *   <li>no node is assigned more cpus or memory than its capacity;</li>
 *   <li>every machine's node exists.</li>
 * </ul>
 */
final class Invariants {
    private Invariants() {}

    /** What a load was told: creates acknowledged with 201 (id to name) and deletes acknowledged (ids). */
    record Acknowledged(Map<String, String> creates, Set<String> deletes) {}

    /** Every violation of the invariants in {@code store} and the {@code agents}' reports, one line each. */
    static List<String> check(Connection store, Acknowledged acknowledged, List<FakeAgent> agents)
            throws SQLException {
        var violations = new ArrayList<String>();
        record Row(String name, String desired, String node) {}
        var machines = new HashMap<String, Row>();
        var byName = new HashMap<String, Integer>();
        try (var s = store.createStatement();
             var rs = s.executeQuery("SELECT id, namespace, name, desired_state, node_id FROM machines")) {
            while (rs.next()) {
                machines.put(rs.getString(1), new Row(rs.getString(3), rs.getString(4), rs.getString(5)));
                byName.merge(rs.getString(2) + "/" + rs.getString(3), 1, Integer::sum);
            }
        }
        byName.forEach((name, n) -> {
            if (n > 1) violations.add("machine name " + name + " is in the store " + n + " times");
        });
        acknowledged.creates().forEach((id, name) -> {
            if (acknowledged.deletes().contains(id)) return;
            Row row = machines.get(id);
            if (row == null) violations.add("acknowledged create " + id + " (" + name + ") is not in the store");
            else if (!row.name().equals(name)) {
                violations.add("acknowledged create " + id + " is named " + row.name() + ", not " + name);
            } else if (row.desired().equals("destroyed")) {
                violations.add("acknowledged create " + id + " (" + name + ") was destroyed without a delete");
            }
        });
        for (String id : acknowledged.deletes()) {
            Row row = machines.get(id);
            if (row != null) violations.add("acknowledged delete " + id + " is still in the store (" + row + ")");
        }

        violations.addAll(runningTwice(agents));
        for (FakeAgent agent : agents) {
            for (String id : agent.reportedRunning()) {
                Row row = machines.get(id);
                if (row == null || !agent.id().equals(row.node())) {
                    violations.add("node " + agent.id() + " reports machine " + id + " running, but the store "
                            + (row == null ? "has no such machine" : "assigns it to " + row.node()));
                }
            }
        }

        try (var s = store.createStatement();
             var rs = s.executeQuery("SELECT n.id, n.capacity_cpus, n.capacity_memory_mb,"
                     + " COALESCE(SUM(m.cpus), 0), COALESCE(SUM(m.memory_mb), 0) FROM nodes n"
                     + " LEFT JOIN machines m ON m.node_id = n.id AND m.desired_state <> 'destroyed'"
                     + " GROUP BY n.id, n.capacity_cpus, n.capacity_memory_mb")) {
            while (rs.next()) {
                if (rs.getLong(4) > rs.getLong(2) || rs.getLong(5) > rs.getLong(3)) {
                    violations.add("node " + rs.getString(1) + " is assigned " + rs.getLong(4) + " cpus / "
                            + rs.getLong(5) + " MB, over its capacity of " + rs.getLong(2) + " / " + rs.getLong(3));
                }
            }
        }
        try (var s = store.createStatement();
             var rs = s.executeQuery("SELECT m.id, m.node_id FROM machines m LEFT JOIN nodes n ON n.id = m.node_id"
                     + " WHERE m.node_id IS NOT NULL AND n.id IS NULL")) {
            while (rs.next()) violations.add("machine " + rs.getString(1) + " is on node " + rs.getString(2)
                    + ", which does not exist");
        }
        return violations;
    }

    /** One violation for each machine that two of the {@code agents}' last heartbeats both reported running. */
    static List<String> runningTwice(List<FakeAgent> agents) {
        var runningOn = new HashMap<String, String>();
        var twice = new ArrayList<String>();
        for (FakeAgent agent : agents) {
            for (String id : agent.reportedRunning()) {
                String other = runningOn.putIfAbsent(id, agent.id());
                if (other != null) {
                    twice.add("machine " + id + " is reported running by nodes " + other + " and " + agent.id());
                }
            }
        }
        return twice;
    }
}
