package dev.bolero.server.cluster;

import dev.bolero.core.MachineState;
import dev.bolero.network.PrivateAddressing;
import dev.bolero.server.secrets.Secrets;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import dev.bolero.server.store.ServerStore;
import dev.bolero.server.store.TokenRow;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;

/**
 * The control plane's services over one store, the placement worker, and the reconciliation loop, which runs only
 * while this process holds the leadership ({@link Leadership}). {@link #close()} stops the loop, the placement
 * worker and the {@link AssignmentWatch} and gives the leadership up; the store stays open.
 */
public final class Cluster implements AutoCloseable {
    /** How long a volume move waits for its target node to report one pass. */
    private static final Duration VOLUME_PASS_DEADLINE = Duration.ofMinutes(30);
    private final ServerStore store;
    private final ControlPlane plane;
    private final NodeRegistry nodes;
    private final ClusterLoops loops;
    private final Placements placements;
    private final Streams streams;
    private final Deployments deployments;
    private final Volumes volumes;
    private final VolumeMoves moves;
    private final GatewayFeed feed;
    private final Hostnames hostnames;
    private final TokenCache tokens;
    private final GatewayMesh mesh;
    private final Optional<AssignmentWatch> watch;

    private Cluster(ServerStore store, ControlPlane plane, NodeRegistry nodes, ClusterLoops loops,
                    Placements placements, Streams streams, Deployments deployments, Volumes volumes,
                    VolumeMoves moves, GatewayFeed feed, Hostnames hostnames, TokenCache tokens, GatewayMesh mesh,
                    Optional<AssignmentWatch> watch) {
        this.mesh = mesh;
        this.watch = watch;
        this.moves = moves;
        this.tokens = tokens;
        this.deployments = deployments;
        this.store = store;
        this.placements = placements;
        this.plane = plane;
        this.nodes = nodes;
        this.loops = loops;
        this.streams = streams;
        this.volumes = volumes;
        this.feed = feed;
        this.hostnames = hostnames;
    }

    /**
     * Builds the services and starts the loops.
     *
     * @param streamPickup how long a stream request (logs, events, exec) waits for its node's agent
     * @param secrets the namespaces' secrets: machine configs may name only existing ones, and nodes get the values of
     *     their machines' secrets in their assignments
     * @param privateNetwork the private network's address plan this server is given; empty for the cluster's (the
     *     default one for a new cluster)
     * @throws IllegalArgumentException when {@code privateNetwork} is not the plan the cluster's addresses are in
     */
    public static Cluster start(ServerStore store, Clock clock, NodeRegistry.Timing timing, Duration loopInterval,
                                Duration streamPickup, Secrets secrets, Optional<PrivateAddressing> privateNetwork) {
        PrivateAddressing plan = AddressPlan.fix(store, privateNetwork);
        var changes = new Changes();
        var assigned = new AssignedMachines();
        var placements = new Placements(store, clock, changes, timing.downAfter(), assigned);
        var tokens = new TokenCache(hashes -> store.read("authenticate", tx -> tx.tokens().find(hashes)), clock,
                store.shared());
        var plane = new ControlPlane(store, clock, changes, placements, secrets, tokens);
        var streams = new Streams(store, clock, changes, streamPickup);
        var nodes = new NodeRegistry(store, clock, changes, timing, streams, secrets, assigned, tokens, plan);
        // Other replicas' assignment changes wake this one's polls; alone on SQLite, every change is made here.
        Optional<AssignmentWatch> watch = store.shared() ? Optional.of(AssignmentWatch.start(store, changes))
                : Optional.empty();
        var deployments = new Deployments(store, clock);
        var moves = new VolumeMoves(store, clock, changes, placements, plane, streams, VOLUME_PASS_DEADLINE);
        var mesh = new GatewayMesh(store, clock, changes, plan, timing.downAfter(),
                timing.heartbeatInterval());
        var loops = new ClusterLoops(store, clock, changes, timing.downAfter(), loopInterval, Leadership.of(store),
                plane, placements, deployments, moves, mesh).start();
        return new Cluster(store, plane, nodes, loops, placements, streams, deployments,
                new Volumes(store, clock, changes, streams), moves, new GatewayFeed(store, clock, changes),
                new Hostnames(store, clock, changes, secrets), tokens, mesh, watch);
    }

    public ControlPlane plane() {
        return plane;
    }

    /** Fleets' releases and deployments. */
    public Deployments deployments() {
        return deployments;
    }

    public Volumes volumes() {
        return volumes;
    }

    /** Volumes' moves between nodes. */
    public VolumeMoves volumeMoves() {
        return moves;
    }

    /**
     * Publishes the control plane's metrics on {@code registry}: machines by observed state across the cluster
     * ({@code bolero_cluster_machines}, read from the store at most every 5 s), placements
     * ({@link Placements#bindMetrics}) and reconciliations ({@link ClusterLoops#bindMetrics}).
     */
    public void bindMetrics(MeterRegistry registry) {
        var counts = new java.util.concurrent.atomic.AtomicReference<Map<String, Long>>(Map.of());
        var readAt = new java.util.concurrent.atomic.AtomicLong(System.nanoTime() - 10_000_000_000L);
        java.util.function.Supplier<Map<String, Long>> current = () -> {
            long now = System.nanoTime();
            long last = readAt.get();
            if (now - last > 5_000_000_000L && readAt.compareAndSet(last, now)) {
                counts.set(store.read("count machines by state", tx -> tx.machines().countByState()));
            }
            return counts.get();
        };
        for (MachineState state : MachineState.values()) {
            Gauge.builder("bolero.cluster.machines", current, c -> c.get().getOrDefault(state.wireName(), 0L))
                    .description("The cluster's machines (not destroyed) by observed state")
                    .tag("state", state.wireName()).strongReference(true).register(registry);
        }
        placements.bindMetrics(registry);
        loops.bindMetrics(registry);
    }

    public NodeRegistry nodes() {
        return nodes;
    }

    /** The routes the gateways follow. */
    /** The gateways in the private network's mesh. */
    public GatewayMesh mesh() {
        return mesh;
    }

    public GatewayFeed feed() {
        return feed;
    }

    /** Fleets' custom host names and their certificates. */
    public Hostnames hostnames() {
        return hostnames;
    }

    /** Logs, events and exec: the public requests relayed from nodes. */
    public Streams streams() {
        return streams;
    }

    /** The reconciliation loop, for tests that tick it themselves. */
    ClusterLoops loops() {
        return loops;
    }

    /** Whether this process ran the singleton loops at their last tick. */
    public boolean leading() {
        return loops.leading();
    }

    /**
     * The credential {@code token} is, if any. Credentials are cached ({@link TokenCache}): one revoked through this
     * server (or a removed node's) is refused at once, one revoked through another server sharing the store within 5 s.
     */
    public Optional<TokenRow> authenticate(String token) {
        return tokens.find(Tokens.hash(token));
    }

    /** The latest state index. */
    public long index() {
        return store.read("read state index", tx -> tx.currentIndex());
    }

    @Override
    public void close() {
        loops.close();
        placements.close();
        nodes.close();
        watch.ifPresent(AssignmentWatch::close);
    }
}
