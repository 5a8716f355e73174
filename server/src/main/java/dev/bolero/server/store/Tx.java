package dev.bolero.server.store;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;
import java.util.Optional;

/**
 * One transaction of {@link ServerStore}: the state index, and one small store per aggregate sharing the
 * transaction's connection. Not thread-safe; valid only inside the {@link ServerStore.Work} it was given to.
 */
public final class Tx {
    private final Statements sql;
    private final TokenStore tokens;
    private final NamespaceStore namespaces;
    private final FleetStore fleets;
    private final NodeStore nodes;
    private final MachineStore machines;
    private final AllocationStore allocations;
    private final StreamStore streams;
    private final SecretStore secrets;
    private final PrivateNetworkStore privateNetwork;
    private final AuditStore audit;
    private final ReleaseStore releases;
    private final DeploymentStore deployments;
    private final VolumeStore volumes;
    private final HostnameStore hostnames;
    private final QuotaStore quotas;
    private final GatewayPeerStore gatewayPeers;
    private Later<List<Long>> bump;
    private long index = -1;

    /** @param postgres whether {@code c} is a PostgreSQL connection (else SQLite) */
    Tx(Connection c, Optional<Statements.Cache> statements, boolean postgres) {
        this.sql = new Statements(c, statements, postgres);
        this.tokens = new TokenStore(sql);
        this.namespaces = new NamespaceStore(sql);
        this.fleets = new FleetStore(sql);
        this.nodes = new NodeStore(sql, this);
        this.machines = new MachineStore(sql, this);
        this.allocations = new AllocationStore(sql);
        this.streams = new StreamStore(sql);
        this.secrets = new SecretStore(sql);
        this.privateNetwork = new PrivateNetworkStore(sql);
        this.audit = new AuditStore(sql);
        this.releases = new ReleaseStore(sql);
        this.deployments = new DeploymentStore(sql);
        this.volumes = new VolumeStore(sql);
        this.hostnames = new HostnameStore(sql);
        this.quotas = new QuotaStore(sql);
        this.gatewayPeers = new GatewayPeerStore(sql);
    }

    public TokenStore tokens() {
        return tokens;
    }

    public NamespaceStore namespaces() {
        return namespaces;
    }

    public FleetStore fleets() {
        return fleets;
    }

    public NodeStore nodes() {
        return nodes;
    }

    public MachineStore machines() {
        return machines;
    }

    public AllocationStore allocations() {
        return allocations;
    }

    public StreamStore streams() {
        return streams;
    }

    public SecretStore secrets() {
        return secrets;
    }

    public AuditStore audit() {
        return audit;
    }

    public ReleaseStore releases() {
        return releases;
    }

    public DeploymentStore deployments() {
        return deployments;
    }

    public PrivateNetworkStore privateNetwork() {
        return privateNetwork;
    }

    public VolumeStore volumes() {
        return volumes;
    }

    public HostnameStore hostnames() {
        return hostnames;
    }

    public QuotaStore quotas() {
        return quotas;
    }

    public GatewayPeerStore gatewayPeers() {
        return gatewayPeers;
    }

    /**
     * Allocates this write transaction's state index; serialises write transactions on the one-row table. On
     * PostgreSQL the statement is queued ({@link Later}), so it goes with the transaction's first statements: it is
     * queued first, so it runs first.
     */
    void bumpIndex() throws SQLException {
        bump = sql.later("UPDATE state_index SET value = value + 1 WHERE id = 1 RETURNING value", rs -> rs.getLong(1));
    }

    /**
     * Makes this transaction exclusive with every write transaction (and every other caller of this) until it ends, as
     * one that allocated a state index is: on PostgreSQL it takes the state index's row lock, which such a transaction
     * holds already; on SQLite nothing, as its writing transactions already exclude each other. Reads after this see
     * what those transactions committed.
     */
    public void excludeWrites() throws SQLException {
        if (bump != null || !sql.postgres()) return;
        sql.one("SELECT value FROM state_index WHERE id = 1 FOR UPDATE", rs -> rs.getLong(1))
                .orElseThrow(() -> new SQLException("state index: no row"));
    }

    /**
     * The state index this write transaction allocated (sending the queued statements if its allocation is among
     * them).
     *
     * @throws IllegalStateException outside a {@link ServerStore#write} transaction
     */
    public long index() throws SQLException {
        if (index < 0) {
            if (bump == null) throw new IllegalStateException("state index: not a write transaction");
            index = bump.get().stream().findFirst().orElseThrow(() -> new SQLException("state index: no row"));
        }
        return index;
    }

    /** Sends the statements still queued ({@link Later}); at the end of the work of a transaction in autocommit. */
    void send() throws SQLException {
        sql.send();
    }

    /** Commits, with the statements still queued in the same round trip ({@link Statements#commit}). */
    void commit() throws SQLException {
        sql.commit();
    }

    /** The latest committed state index. */
    public long currentIndex() throws SQLException {
        return sql.one("SELECT value FROM state_index WHERE id = 1", rs -> rs.getLong(1)).orElseThrow();
    }
}
