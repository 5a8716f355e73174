package dev.bolero.server.store;

import dev.bolero.api.wire.DnsRecord;
import dev.bolero.api.wire.NodeLink;
import dev.bolero.api.wire.WireGuardKind;
import dev.bolero.core.MachineState;
import dev.bolero.core.NodeState;
import dev.bolero.network.PrivateAddressing;
import java.sql.SQLException;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The private network's part of the store, in one {@link Tx}: nodes' indexes, keys and endpoints, namespaces'
 * indexes, and what the internal DNS answers (running machines with a private address). See
 * {@code docs/private-network.md}.
 */
public final class PrivateNetworkStore {
    private static final String RUNNING = Statements.literal(MachineState.RUNNING.wireName());
    private static final String DESTROYED = Statements.literal(MachineState.DESTROYED.wireName());
    /** Running machines with a private address, deleted ones included (their node has not stopped them yet). */
    private static final String RUNNING_WITH_ADDRESS = "SELECT id, namespace, fleet, name, private_ip FROM machines "
            + "WHERE observed_state = " + RUNNING + " AND private_ip IS NOT NULL AND ";

    private final Statements sql;

    PrivateNetworkStore(Statements sql) {
        this.sql = sql;
    }

    /**
     * A node of the private network.
     *
     * @param index its index in the address plan
     * @param link its key, endpoint and (once it reported it) WireGuard kind
     * @param down whether it missed its heartbeats
     */
    public record Member(String nodeId, int index, NodeLink link, boolean down) {}

    /** Every node of the private network, down or not, by index. */
    public List<Member> members() throws SQLException {
        return sql.all(MEMBERS + "ORDER BY private_index", PrivateNetworkStore::member);
    }

    /** The node's membership; empty when it takes no part in the private network. One row read, not every member's. */
    public Optional<Member> member(String nodeId) throws SQLException {
        return sql.one(MEMBERS + "AND id = ?", PrivateNetworkStore::member, nodeId);
    }

    /** The columns of a node's row {@link #memberOf} reads. */
    static final String MEMBER_COLUMNS = "private_index, public_key, endpoint, wireguard_kind, health";

    private static final String MEMBERS = "SELECT id, " + MEMBER_COLUMNS + " FROM nodes WHERE private_index IS NOT NULL ";

    private static Member member(java.sql.ResultSet rs) throws SQLException {
        return memberOf(rs.getString("id"), rs).orElseThrow();
    }

    /**
     * Node {@code nodeId}'s membership from the current row, read by the names of {@link #MEMBER_COLUMNS}: empty when
     * it has no private index.
     */
    static Optional<Member> memberOf(String nodeId, java.sql.ResultSet rs) throws SQLException {
        int index = rs.getInt("private_index");
        if (rs.wasNull()) return Optional.empty();
        String kind = rs.getString("wireguard_kind");
        return Optional.of(new Member(nodeId, index, new NodeLink(rs.getString("public_key"), rs.getString("endpoint"),
                kind == null ? null : WireGuardKind.valueOf(kind)), NodeState.parse(rs.getString("health"))
                == NodeState.DOWN));
    }

    /** The cluster's address plan, once a server stored it. */
    public Optional<PrivateAddressing> plan() throws SQLException {
        return sql.one("SELECT pool, node_bits, namespace_bits FROM private_network_plan WHERE id = 1",
                rs -> new PrivateAddressing(rs.getString(1), rs.getInt(2), rs.getInt(3)));
    }

    /** Stores {@code plan} as the cluster's, in place of any stored before. */
    public void storePlan(PrivateAddressing plan) throws SQLException {
        if (sql.update("UPDATE private_network_plan SET pool = ?, node_bits = ?, namespace_bits = ? WHERE id = 1",
                plan.pool(), plan.nodeBits(), plan.namespaceBits()) == 0) {
            sql.update("INSERT INTO private_network_plan (id, pool, node_bits, namespace_bits) VALUES (1,?,?,?)",
                    plan.pool(), plan.nodeBits(), plan.namespaceBits());
        }
    }

    /** Whether a node, namespace or gateway holds an index of the plan (so the plan can no longer change). */
    public boolean anyIndexGiven() throws SQLException {
        return sql.one("SELECT 1 FROM nodes WHERE private_index IS NOT NULL UNION ALL SELECT 1 FROM namespace_indexes "
                + "UNION ALL SELECT 1 FROM gateway_peers LIMIT 1", rs -> true).isPresent();
    }

    /** Makes the node a member with {@code index} (which the unique index keeps to one node). */
    public void join(String nodeId, int index, NodeLink link) throws SQLException {
        sql.update("UPDATE nodes SET private_index = ?, public_key = ?, endpoint = ?, wireguard_kind = ? WHERE id = ?",
                index, link.publicKey(), link.endpoint(), link.kind() == null ? null : link.kind().name(), nodeId);
    }

    /** Records the node's key, endpoint and kind as its heartbeat reports them. */
    public void link(String nodeId, NodeLink link) throws SQLException {
        join(nodeId, member(nodeId).orElseThrow().index(), link);
    }

    /** The namespaces' indexes, for those that have one. */
    public Map<String, Integer> namespaceIndexes(Collection<String> namespaces) throws SQLException {
        var indexes = new HashMap<String, Integer>();
        for (var e : sql.in("SELECT namespace, private_index FROM namespace_indexes WHERE namespace",
                rs -> Map.entry(rs.getString(1), rs.getInt(2)), namespaces)) {
            indexes.put(e.getKey(), e.getValue());
        }
        return indexes;
    }

    /** Every namespace index given so far. */
    public List<Integer> takenNamespaceIndexes() throws SQLException {
        return sql.all("SELECT private_index FROM namespace_indexes", rs -> rs.getInt(1));
    }

    /** Gives {@code namespace} its index, for its life. */
    public void numberNamespace(String namespace, int index) throws SQLException {
        sql.update("INSERT INTO namespace_indexes (namespace, private_index) VALUES (?,?)", namespace, index);
    }

    /** The namespaces of the machines assigned to the node (deleted ones included, until purged). */
    public List<String> namespacesOn(String nodeId) throws SQLException {
        return sql.all("SELECT DISTINCT namespace FROM machines WHERE node_id = ?", rs -> rs.getString(1), nodeId);
    }

    /** The nodes that have a machine of one of these namespaces. */
    public List<String> nodesHosting(Collection<String> namespaces) throws SQLException {
        return sql.in("SELECT DISTINCT node_id FROM machines WHERE node_id IS NOT NULL AND namespace", rs -> rs.getString(1),
                namespaces);
    }

    /** What the internal DNS answers for these namespaces: their running, not deleted machines with a private address. */
    public List<DnsRecord> dns(Collection<String> namespaces) throws SQLException {
        return sql.in(RUNNING_WITH_ADDRESS + "desired_state <> " + DESTROYED + " AND namespace",
                PrivateNetworkStore::record, namespaces);
    }

    private static DnsRecord record(java.sql.ResultSet rs) throws SQLException {
        return new DnsRecord(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4), rs.getString(5));
    }
}
