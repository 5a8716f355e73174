package dev.bolero.agent.store;

import dev.bolero.network.AllocationStore;
import dev.bolero.network.MachineAllocation;
import dev.bolero.network.NamespaceAllocation;
import dev.bolero.network.Service;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;
import org.sqlite.SQLiteConfig;

/**
 * The node network's allocations in the agent's SQLite file (tables of migration V3), so that addresses, subnets and
 * devices survive agent restarts. Open it after {@link MachineStore#open}, which migrates the schema. Thread-safe;
 * failures are {@link StoreException}s naming the action.
 */
public final class NetworkAllocationStore implements AllocationStore, AutoCloseable {
    private final Jdbc db;

    private NetworkAllocationStore(Connection connection) {
        this.db = new Jdbc(connection, "network allocations");
    }

    /**
     * Opens the allocations in {@code file}, an agent store already migrated by {@link MachineStore#open}.
     *
     * @throws StoreException when the file cannot be opened
     */
    public static NetworkAllocationStore open(Path file) {
        SQLiteConfig config = new SQLiteConfig();
        config.setBusyTimeout(5_000);
        config.enforceForeignKeys(true);
        try {
            return new NetworkAllocationStore(config.createConnection("jdbc:sqlite:" + file));
        } catch (SQLException e) {
            throw new StoreException("open network allocations in " + file + ": " + e.getMessage(), e);
        }
    }

    @Override
    public List<NamespaceAllocation> namespaces() {
        return db.query("list network namespaces",
                "SELECT namespace, idx, subnet, bridge FROM network_namespaces ORDER BY idx", ps -> { },
                rs -> new NamespaceAllocation(rs.getString(1), rs.getInt(2), rs.getString(3), rs.getString(4)));
    }

    @Override
    public List<MachineAllocation> machines() {
        return db.query("list network machines",
                "SELECT machine_id, namespace, ip, mac, tap, egress, services, gateway_ports FROM network_machines "
                        + "ORDER BY machine_id",
                ps -> { },
                rs -> new MachineAllocation(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4),
                        rs.getString(5), rs.getInt(6) != 0, services(rs.getString(7)), ports(rs.getString(8))));
    }

    @Override
    public void putNamespace(NamespaceAllocation n) {
        db.write("record network namespace " + n.namespace(),
                "INSERT INTO network_namespaces (namespace, idx, subnet, bridge) VALUES (?,?,?,?) "
                        + "ON CONFLICT (namespace) DO UPDATE SET idx=excluded.idx, subnet=excluded.subnet, bridge=excluded.bridge",
                ps -> {
                    ps.setString(1, n.namespace());
                    ps.setInt(2, n.index());
                    ps.setString(3, n.subnet());
                    ps.setString(4, n.bridge());
                });
    }

    @Override
    public void removeNamespace(String namespace) {
        db.write("forget network namespace " + namespace, "DELETE FROM network_namespaces WHERE namespace=?",
                ps -> ps.setString(1, namespace));
    }

    @Override
    public void putMachine(MachineAllocation m) {
        db.write("record network allocation of machine " + m.machineId(),
                "INSERT INTO network_machines (machine_id, namespace, ip, mac, tap, egress, services, gateway_ports) "
                        + "VALUES (?,?,?,?,?,?,?,?) "
                        + "ON CONFLICT (machine_id) DO UPDATE SET namespace=excluded.namespace, ip=excluded.ip, "
                        + "mac=excluded.mac, tap=excluded.tap, egress=excluded.egress, services=excluded.services, "
                        + "gateway_ports=excluded.gateway_ports",
                ps -> {
                    ps.setString(1, m.machineId());
                    ps.setString(2, m.namespace());
                    ps.setString(3, m.ip());
                    ps.setString(4, m.mac());
                    ps.setString(5, m.tap());
                    ps.setInt(6, m.egress() ? 1 : 0);
                    ps.setString(7, m.services().stream()
                            .map(s -> s.protocol().wireName() + ":" + s.internalPort() + ":" + s.port())
                            .collect(Collectors.joining(",")));
                    ps.setString(8, m.gatewayPorts().stream().map(String::valueOf).collect(Collectors.joining(",")));
                });
    }

    @Override
    public void removeMachine(String machineId) {
        db.write("forget network allocation of machine " + machineId, "DELETE FROM network_machines WHERE machine_id=?",
                ps -> ps.setString(1, machineId));
    }

    @Override
    public void close() {
        db.close();
    }

    /** Parses {@code 80,8080}. */
    private static Set<Integer> ports(String text) {
        if (text.isEmpty()) return Set.of();
        return Arrays.stream(text.split(",")).map(Integer::valueOf).collect(Collectors.toSet());
    }

    /** Parses {@code tcp:8080:18080,udp:53:5353}. */
    private static List<Service> services(String text) {
        if (text.isEmpty()) return List.of();
        return Arrays.stream(text.split(",")).map(s -> {
            String[] f = s.split(":");
            return new Service(Service.Protocol.valueOf(f[0].toUpperCase(Locale.ROOT)), Integer.parseInt(f[1]),
                    Integer.parseInt(f[2]));
        }).toList();
    }
}
