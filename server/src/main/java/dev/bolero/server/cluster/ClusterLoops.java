package dev.bolero.server.cluster;

import dev.bolero.api.wire.Deployment;
import dev.bolero.api.wire.FleetStrategy;
import dev.bolero.core.NodeState;
import dev.bolero.server.store.FleetStore;
import dev.bolero.server.store.MachineRow;
import dev.bolero.server.store.MachineStore;
import dev.bolero.server.store.ServerStore;
import dev.bolero.server.store.Tx;
import java.sql.SQLException;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The singleton reconciliation loop, run each tick by the leader only: reads the cluster, asks the {@link Reconciler}
 * what differs from what is wanted, and carries the actions out: lost nodes go down with their machines evicted (moved
 * when their restart policy says so, failed otherwise) in one transaction per node; machines without a node and
 * machines on draining nodes are placed together in one {@link Placements} batch; machines that cannot leave a
 * draining node are stopped; the steps of deployments are recorded before the machines they concern are deleted or
 * created. Gateways whose registration in the private network's mesh lapsed leave it ({@link GatewayMesh#expire}), and
 * volume moves whose driver went away are taken over ({@link VolumeMoves#takeOverAbandoned}).
 */
final class ClusterLoops implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ClusterLoops.class);
    /** Ticks between looks for volume moves whose driver went away (30 s at the default interval of 1 s). */
    private static final int TAKE_OVER_EVERY = 30;

    private final ServerStore store;
    private final Clock clock;
    private final Changes changes;
    private final Duration downAfter;
    private final Duration interval;
    private final Leadership leadership;
    private final ControlPlane plane;
    private final Placements placements;
    private final Deployments deployments;
    private final Thread thread;
    private volatile boolean leading;
    /** Ticks run so far (by the loops' one thread, or a test's). */
    private long ticks;
    private volatile boolean closed;

    private final VolumeMoves moves;
    private final GatewayMesh mesh;

    ClusterLoops(ServerStore store, Clock clock, Changes changes, Duration downAfter, Duration interval,
                 Leadership leadership, ControlPlane plane, Placements placements, Deployments deployments,
                 VolumeMoves moves, GatewayMesh mesh) {
        this.mesh = mesh;
        this.deployments = deployments;
        this.moves = moves;
        this.store = store;
        this.clock = clock;
        this.changes = changes;
        this.downAfter = downAfter;
        this.interval = interval;
        this.leadership = leadership;
        this.plane = plane;
        this.placements = placements;
        this.thread = Thread.ofVirtual().name("cluster-loops").unstarted(this::run);
    }

    ClusterLoops start() {
        thread.start();
        return this;
    }

    /** Whether this process ran the loops at its last tick. */
    boolean leading() {
        return leading;
    }

    private void run() {
        while (!closed) {
            try {
                leading = leadership.lead();
                if (leading) tick();
            } catch (RuntimeException e) {
                log.error("cluster loops: {}", e.getMessage(), e);
            }
            try {
                Thread.sleep(interval);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    /** When the last reconciliation on this replica ended; null before the first. */
    private volatile Instant lastPass;
    private volatile Timer passes;

    /**
     * Publishes on {@code registry} how long reconciliations take ({@code bolero_reconciler_pass_seconds}) and how
     * long ago the last one ended on this replica ({@code bolero_reconciler_lag_seconds}: NaN while it does not lead,
     * growing when the loop is stuck).
     */
    void bindMetrics(MeterRegistry registry) {
        passes = Timer.builder("bolero.reconciler.pass").description("One reconciliation of desired and actual state")
                .register(registry);
        Gauge.builder("bolero.reconciler.lag.seconds", this, loops -> {
            Instant last = loops.lastPass;
            return !loops.leading || last == null ? Double.NaN
                    : Duration.between(last, loops.clock.instant()).toMillis() / 1000.0;
        }).description("Seconds since this replica's last reconciliation (NaN when it does not lead)")
                .register(registry);
    }

    /**
     * One reconciliation, again at once when it found nodes lost (so that their machines are placed now); then the
     * gateways' leases, and every {@link #TAKE_OVER_EVERY} ticks the volume moves whose driver went away.
     */
    void tick() {
        long start = System.nanoTime();
        if (reconcile()) reconcile();
        mesh.expire();
        if (ticks++ % TAKE_OVER_EVERY == 0) moves.takeOverAbandoned();
        lastPass = clock.instant();
        Timer t = passes;
        if (t != null) t.record(System.nanoTime() - start, java.util.concurrent.TimeUnit.NANOSECONDS);
    }

    /** Reads the cluster, asks the {@link Reconciler} and carries its actions out; whether any node went down. */
    private boolean reconcile() {
        var observation = store.read("observe cluster", this::observe);
        var observed = observation.observed();
        var jobs = new ArrayList<Placements.Job>();
        var stops = new ArrayList<MachineRow>();
        var volumeMoves = new ArrayList<Reconciler.Action.MoveVolume>();
        var shrinks = new ArrayList<MachineRow>();
        var grows = new ArrayList<Reconciler.Action.Grow>();
        var rollBacks = new ArrayList<Reconciler.Action.RollBack>();
        var finishes = new ArrayList<Reconciler.Action.Finish>();
        var notes = new ArrayList<Reconciler.Action.Note>();
        boolean lost = false;
        for (Reconciler.Action action : Reconciler.reconcile(observed, downAfter)) {
            switch (action) {
                case Reconciler.Action.MarkDown down -> lost |= markDown(down);
                case Reconciler.Action.Schedule schedule -> jobs.add(schedule.job());
                case Reconciler.Action.Stop stop -> stops.add(stop.machine());
                case Reconciler.Action.MoveVolume move -> volumeMoves.add(move);
                case Reconciler.Action.Grow grow -> grows.add(grow);
                case Reconciler.Action.Shrink shrink -> shrinks.add(shrink.machine());
                case Reconciler.Action.RollBack back -> rollBacks.add(back);
                case Reconciler.Action.Finish finish -> finishes.add(finish);
                case Reconciler.Action.Note note -> notes.add(note);
            }
        }
        if (lost) return true; // their machines are observed again, placed on the next pass
        var results = placements.placeAll(jobs);
        for (int i = 0; i < jobs.size(); i++) {
            if (jobs.get(i) instanceof Placements.Job.Move move
                    && results.get(i) instanceof Placements.Result.Placed placed) {
                log.info("machine moved id={} from={} to={}", move.machine().id(), move.from(), placed.nodeId());
            }
        }
        for (MachineRow machine : stops) plane.stop(machine.namespace(), machine.id(), null);
        for (Reconciler.Action.MoveVolume move : volumeMoves) moves.drain(move.machine());
        for (Reconciler.Action.Note note : notes) deployments.note(note.deployment(), note.step());
        for (MachineRow machine : shrinks) {
            log.info("fleet {}/{} above its count or deploying: deleting machine {}", machine.namespace(),
                    machine.fleet(), machine.id());
            plane.delete(machine.namespace(), machine.id());
        }
        var failed = new HashMap<String, Map<Optional<String>, String>>();
        for (Reconciler.Action.Grow grow : grows) {
            grow(grow).ifPresent(why -> failed.computeIfAbsent(grow.namespace() + "/" + grow.fleet(),
                    k -> new HashMap<>()).put(grow.region(), why));
        }
        recordWaiting(observation.waiting(), failed);
        for (Reconciler.Action.RollBack back : rollBacks) {
            Deployment d = back.deployment();
            log.warn("deployment {} of fleet {}/{} rolling back to release {}: {}", d.id(), d.namespace(), d.fleet(),
                    d.fromVersion(), back.reason());
            deployments.rollBack(d, back.step());
        }
        for (Reconciler.Action.Finish finish : finishes) {
            Deployment d = finish.deployment();
            log.info("deployment {} of fleet {}/{} {}{}", d.id(), d.namespace(), d.fleet(), finish.status().wireName(),
                    finish.message() == null ? "" : ": " + finish.message());
            deployments.finish(d, finish.status(), finish.message(), finish.step());
        }
        return false;
    }

    /**
     * Creates the machines a fleet's share lacks, from its config, in the share's region; why a create failed (no
     * room in the region, a bad config, a quota), which ends the grow until the next pass, if one did.
     */
    private Optional<String> grow(Reconciler.Action.Grow grow) {
        for (int i = 0; i < grow.missing(); i++) {
            try {
                var m = plane.growFleet(grow.namespace(), grow.fleet(), grow.region());
                log.info("fleet {}/{} below its count or deploying: created machine {} of release {} in region {} "
                        + "on {}", grow.namespace(), grow.fleet(), m.id(), m.configVersion(),
                        grow.region().orElse("(any)"), m.nodeId());
            } catch (RuntimeException e) {
                return Optional.of(String.valueOf(e.getMessage()));
            }
        }
        return Optional.empty();
    }

    /**
     * Records on each sized fleet why its creates failed this pass ({@code failed}, by fleet key and share) where that
     * differs from what it had ({@code had}): a share whose creates all succeeded, or that needed none, is cleared.
     * Each new reason is logged once, not once a pass.
     */
    private void recordWaiting(Map<String, Map<Optional<String>, String>> had,
                               Map<String, Map<Optional<String>, String>> failed) {
        var changed = new ArrayList<String>();
        for (String key : had.keySet()) {
            if (!had.get(key).equals(failed.getOrDefault(key, Map.of()))) changed.add(key);
        }
        if (changed.isEmpty()) return;
        store.update("record why " + changed.size() + " fleets lack machines", tx -> {
            for (String key : changed) {
                int slash = key.indexOf('/');
                tx.fleets().setWaiting(key.substring(0, slash), key.substring(slash + 1),
                        failed.getOrDefault(key, Map.of()));
            }
            return null;
        });
        for (String key : changed) {
            var before = had.get(key);
            failed.getOrDefault(key, Map.of()).forEach((region, why) -> {
                if (!why.equals(before.get(region))) {
                    log.warn("fleet {} below its count in region {}: {}", key, region.orElse("(any)"), why);
                }
            });
        }
    }

    /**
     * What one pass reads: the reconciler's input, and why each sized fleet's creates last failed, by
     * {@link Reconciler#fleetKey} and share ({@link FleetStore#setWaiting}).
     */
    private record Observation(Reconciler.Observed observed, Map<String, Map<Optional<String>, String>> waiting) {}

    private Observation observe(Tx tx) throws SQLException {
        var nodes = tx.nodes().list();
        var unplaced = tx.machines().unplaced();
        // The machines on draining nodes, read only when a node is draining (a join of every machine with its node).
        var onDraining = nodes.stream().anyMatch(n -> n.adminState() == NodeState.DRAINING)
                ? tx.machines().onDrainingNodes() : List.<MachineRow>of();
        var strategies = new HashMap<String, FleetStrategy>();
        for (MachineRow m : unplaced) strategy(tx, m, strategies);
        for (MachineRow m : onDraining) strategy(tx, m, strategies);
        var nodeRegions = Reconciler.nodeRegions(nodes);
        var sized = new ArrayList<Reconciler.FleetSize>();
        var waiting = new HashMap<String, Map<Optional<String>, String>>();
        for (FleetStore.Sized f : tx.fleets().sized()) {
            sized.add(new Reconciler.FleetSize(f.namespace(), f.spec().name(), f.spec().scale().orElseThrow(),
                    tx.machines().list(f.namespace(), Optional.of(f.spec().name())), nodeRegions,
                    tx.deployments().active(f.namespace(), f.spec().name())));
            waiting.put(f.namespace() + "/" + f.spec().name(), f.waiting());
        }
        return new Observation(new Reconciler.Observed(clock.instant(), nodes, unplaced, onDraining, strategies,
                sized), waiting);
    }

    private static void strategy(Tx tx, MachineRow m, Map<String, FleetStrategy> strategies) throws SQLException {
        String key = Reconciler.fleetKey(m);
        if (!strategies.containsKey(key)) strategies.put(key, strategy(tx, m));
    }

    /** How the fleet of {@code m} places its machines (the default when it has no template). */
    static FleetStrategy strategy(Tx tx, MachineRow m) throws SQLException {
        return tx.fleets().template(m.namespace(), m.fleet()).map(t -> t.spec().strategy())
                .orElse(FleetStrategy.DEFAULT);
    }

    /** Marks the node down, if it is still silent, and evicts its machines in the same transaction. */
    private boolean markDown(Reconciler.Action.MarkDown action) {
        String nodeId = action.nodeId();
        List<String> down = store.write("mark node " + nodeId + " down", tx -> {
            if (!tx.nodes().markDown(nodeId, action.cutoff())) return List.<String>of();
            Instant now = clock.instant();
            var released = new ArrayList<MachineStore.Assignment>();
            for (var eviction : Reconciler.lost(nodeId, tx.machines().on(nodeId))) {
                switch (eviction) {
                    case Reconciler.Eviction.Release r ->
                            released.add(new MachineStore.Assignment(r.machineId(), null, null));
                    case Reconciler.Eviction.Requeue r ->
                            released.add(new MachineStore.Assignment(r.machineId(), null, r.reason()));
                    case Reconciler.Eviction.Fail f -> tx.machines().fail(f.machineId(), f.reason(), now);
                }
            }
            tx.machines().assign(released, now);
            for (String orphan : tx.machines().orphanedDeleted()) tx.machines().purge(orphan);
            // Its private-network peers drop it, and the DNS of its namespaces drops its machines.
            var touched = new ArrayList<String>(List.of(nodeId));
            tx.privateNetwork().members().forEach(m -> touched.add(m.nodeId()));
            tx.nodes().touchAssignments(touched);
            return touched;
        });
        if (!down.isEmpty()) {
            log.warn("node down id={}: no heartbeat for {} s", nodeId, downAfter.toSeconds());
            changes.signal(down);
        }
        return !down.isEmpty();
    }

    @Override
    public void close() {
        closed = true;
        Workers.stop(thread);
        leadership.close();
    }
}
