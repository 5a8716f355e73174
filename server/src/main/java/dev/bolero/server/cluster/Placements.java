package dev.bolero.server.cluster;

import dev.bolero.api.ApiException;
import dev.bolero.api.ErrorCode;
import dev.bolero.api.wire.AuditEntry;
import dev.bolero.api.wire.FleetStrategy;
import dev.bolero.api.wire.Quota;
import dev.bolero.api.wire.QuotaUsage;
import dev.bolero.core.MachineSpec;
import dev.bolero.core.MachineState;
import dev.bolero.scheduler.ClusterSnapshot;
import dev.bolero.scheduler.Driver;
import dev.bolero.scheduler.HostPort;
import dev.bolero.scheduler.NodeState;
import dev.bolero.scheduler.NodeView;
import dev.bolero.scheduler.Placement;
import dev.bolero.scheduler.PlacementDecision;
import dev.bolero.scheduler.PlacementRequest;
import dev.bolero.scheduler.Plan;
import dev.bolero.scheduler.PlanApplier;
import dev.bolero.scheduler.PlanOutcome;
import dev.bolero.scheduler.Resources;
import dev.bolero.scheduler.Scheduler;
import dev.bolero.scheduler.Strategy;
import dev.bolero.server.audit.AuditLog;
import dev.bolero.server.store.AllocationStore;
import dev.bolero.server.store.FleetStore;
import dev.bolero.server.store.Later;
import dev.bolero.server.store.MachineRow;
import dev.bolero.server.store.MachineStore;
import dev.bolero.server.store.NodeRow;
import dev.bolero.server.store.ServerStore;
import dev.bolero.server.store.Tx;
import java.security.SecureRandom;
import java.sql.SQLException;
import java.time.Clock;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;

/**
 * The one place machines are placed: new machines (creates), machines that want to run and have no node, and machines
 * leaving draining nodes. Jobs from any number of callers queue up; one worker takes everything queued as a batch,
 * plans it with {@link Scheduler#planAll} on a snapshot of the cluster, and commits the whole batch in one write
 * transaction (a group commit: one state index, one sync to disk), in which the {@link PlanApplier} first re-checks the
 * chosen nodes against their latest state (their rows read in that transaction; what they hold taken from the
 * snapshot when no other write came after it, see {@link #latest}). Placements the applier rejects are planned again on
 * a fresh snapshot, up to {@value #ATTEMPTS} times. Each caller then gets its own job's {@link Result}, and the nodes'
 * kept machines ({@link AssignedMachines}) move on by the machines the commit created.
 *
 * <p>The snapshot is kept between batches while nothing else writes: the worker applies its own commits to it
 * ({@link ClusterSnapshot#withPlacements}, in time proportional to the batch, not to the cluster) and reads the store
 * again when the state index shows another write and before it refuses anything. When it is older than
 * {@link #SNAPSHOT_AGE}, the nodes' rows alone are read again (so heartbeats' times and capacities are seen), unless
 * the state index moved. A stale snapshot can only make the scheduler propose a node that the applier then rejects:
 * capacity is never over-committed.
 */
final class Placements implements AutoCloseable {
    static final int ATTEMPTS = 5;
    /** How long a snapshot the worker kept may serve before it reads the store again. */
    static final Duration SNAPSHOT_AGE = Duration.ofSeconds(1);
    /** At most this many jobs in one batch. */
    private static final int BATCH = 512;

    private final ServerStore store;
    private final Clock clock;
    private final Changes changes;
    private final Duration downAfter;
    private final AssignedMachines assigned;
    private final SecureRandom seeds = new SecureRandom();
    private final LinkedBlockingQueue<Queued> queue = new LinkedBlockingQueue<>();
    /**
     * A platform thread, not a virtual one: every create waits for its batch's transaction, whose ten-odd store round
     * trips it runs one after another. A platform thread blocks in the socket's read; a virtual one parks and is woken
     * through the JDK's poller (a registration, the poller's wake-up, a hand-off to a carrier) at each round trip:
     * a batch took 6.0 ms against 4.0 ms on PostgreSQL in {@code bench/cluster.sh} on a 2-core host.
     */
    private final Thread worker;
    /** The snapshot kept between batches, or null; only the worker touches it. */
    private Cached cached;
    private volatile boolean closed;

    /** @param assigned the nodes' machines kept for poll answers: each commit of creates advances them */
    Placements(ServerStore store, Clock clock, Changes changes, Duration downAfter, AssignedMachines assigned) {
        this.store = store;
        this.assigned = assigned;
        this.clock = clock;
        this.changes = changes;
        this.downAfter = downAfter;
        this.worker = Thread.ofPlatform().name("placements").daemon().start(this::work);
    }

    /** A machine to place, and what committing its placement means. */
    sealed interface Job {
        /** The machine (for a create, the row to insert). */
        MachineRow machine();

        /** How its fleet places. */
        FleetStrategy strategy();

        /**
         * A new machine: inserted on the chosen node unless its name is taken in its namespace. A fork's clone names
         * its source and the source's node, the only one it may go to. The API call that asks for it, when given, is
         * appended to the audit log in the transaction that inserts it ({@link AuditLog#appendIn}): the machine and
         * its create's entry are committed together or not at all. {@code admitted}, when given, is its fleet as stored
         * when the machine was made from it ({@link FleetStore.Admission#stored}): the create is {@link Result.Stale}
         * when the fleet is no longer that (changed or gone).
         */
        record Create(MachineRow machine, FleetStrategy strategy, Optional<Fork> fork, Optional<AuditLog.Call> call,
                      Optional<FleetStore.Stored> admitted) implements Job {
            Create(MachineRow machine, FleetStrategy strategy, Optional<Fork> fork) {
                this(machine, strategy, fork, Optional.empty(), Optional.empty());
            }
        }

        /** What a fork's clone starts from: a live snapshot of machine {@code source}, on node {@code node}. */
        record Fork(String source, String node) {}

        /**
         * A machine that wants to run and has no node: assigned unless it meanwhile got a node, was deleted or no
         * longer wants to run. A refusal is recorded on it ({@code awaiting a node: …}).
         */
        record Place(MachineRow machine, FleetStrategy strategy) implements Job {}

        /**
         * A machine on draining node {@code from}: moved unless it meanwhile left that node or was deleted. A refusal
         * is recorded on it ({@code cannot leave draining node: …}).
         */
        record Move(MachineRow machine, String from, FleetStrategy strategy) implements Job {}
    }

    /** The outcome of one job. */
    sealed interface Result {
        /**
         * Committed on {@code nodeId}, named {@code nodeName} when it was committed, in the write transaction of state
         * index {@code index}.
         */
        record Placed(String nodeId, String nodeName, long index) implements Result {}

        /** No node can take it; {@code reason} is the scheduler's or the applier's sentence. */
        record Refused(String reason) implements Result {}

        /** The machine changed meanwhile; nothing was written. */
        record Skipped() implements Result {}

        /** A create whose name is taken: {@code reason} says how. */
        record Conflict(String reason) implements Result {}

        /** A create that would take its namespace past its quota: {@code reason} says which limit and by how much. */
        record OverQuota(String reason) implements Result {}

        /** A create whose fleet changed or went since the machine was made from it: nothing was written. */
        record Stale() implements Result {}
    }

    private record Queued(Job job, CompletableFuture<Result> result) {}

    private record Cached(ClusterSnapshot snapshot, Instant readAt) {}

    /**
     * Places {@code job} in the next batch and waits for its outcome.
     *
     * @throws dev.bolero.server.store.StoreException when the batch's transaction failed
     */
    Result place(Job job) {
        return placeAll(List.of(job)).getFirst();
    }

    /** Places {@code jobs} (in the next batch, with whatever else is queued) and waits for their outcomes, in order. */
    List<Result> placeAll(List<? extends Job> jobs) {
        if (closed) throw new IllegalStateException("place machines: placements are closed");
        var futures = new ArrayList<CompletableFuture<Result>>(jobs.size());
        for (Job job : jobs) {
            var future = new CompletableFuture<Result>();
            futures.add(future);
            queue.add(new Queued(job, future));
        }
        if (closed) failQueued(List.of()); // closed meanwhile: the worker may be gone
        var results = new ArrayList<Result>(jobs.size());
        for (var future : futures) {
            try {
                results.add(future.get());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("place machines: interrupted", e);
            } catch (ExecutionException e) {
                if (e.getCause() instanceof RuntimeException r) throw r;
                throw new IllegalStateException("place machines: " + e.getCause().getMessage(), e.getCause());
            }
        }
        return results;
    }

    private void work() {
        var batch = new ArrayList<Queued>();
        // Jobs for a machine already in the batch wait for the next one: a plan places each machine at most once.
        var carried = new ArrayList<Queued>();
        while (!closed) {
            if (carried.isEmpty()) {
                try {
                    carried.add(queue.take());
                } catch (InterruptedException e) {
                    break;
                }
            }
            queue.drainTo(carried, BATCH - carried.size());
            var machines = new HashSet<String>();
            for (var it = carried.iterator(); it.hasNext(); ) {
                Queued q = it.next();
                if (machines.add(q.job().machine().id())) {
                    batch.add(q);
                    it.remove();
                }
            }
            try {
                var results = placeBatch(batch.stream().map(Queued::job).toList());
                for (int i = 0; i < batch.size(); i++) batch.get(i).result().complete(results.get(i));
            } catch (RuntimeException e) {
                cached = null;
                batch.forEach(q -> q.result().completeExceptionally(e));
            }
            batch.clear();
        }
        failQueued(carried);
    }

    /** Fails {@code carried} and every queued job: placements are closed. */
    private void failQueued(List<Queued> carried) {
        var left = new ArrayList<>(carried);
        queue.drainTo(left);
        left.forEach(q -> q.result().completeExceptionally(
                new IllegalStateException("place machine " + q.job().machine().id() + ": placements are closed")));
    }

    /** Where placement outcomes are counted, once {@link #bindMetrics} was called. */
    private volatile MeterRegistry metrics;

    /**
     * Counts placement outcomes on {@code registry}: {@code bolero_scheduler_placements_total} by kind (create, place,
     * move) and outcome (placed, refused, conflict, over_quota, skipped, stale), and each batch's planning and commit time
     * ({@code bolero_scheduler_batch_seconds}).
     */
    void bindMetrics(MeterRegistry registry) {
        this.metrics = registry;
    }

    private void count(List<Job> jobs, List<Result> results, long startNanos) {
        MeterRegistry r = metrics;
        if (r == null) return;
        for (int i = 0; i < jobs.size(); i++) {
            String kind = switch (jobs.get(i)) {
                case Job.Create c -> "create";
                case Job.Place p -> "place";
                case Job.Move m -> "move";
            };
            String outcome = switch (results.get(i)) {
                case Result.Placed p -> "placed";
                case Result.Refused f -> "refused";
                case Result.Conflict c -> "conflict";
                case Result.OverQuota q -> "over_quota";
                case Result.Skipped s -> "skipped";
                case Result.Stale s -> "stale";
            };
            r.counter("bolero.scheduler.placements", "kind", kind, "outcome", outcome).increment();
        }
        Timer.builder("bolero.scheduler.batch").description("Planning and committing one batch of placements")
                .register(r).record(System.nanoTime() - startNanos, java.util.concurrent.TimeUnit.NANOSECONDS);
    }

    /** Plans and commits {@code jobs}, retrying rejected placements; one result per job, in order. */
    private List<Result> placeBatch(List<Job> jobs) {
        long start = System.nanoTime();
        List<Result> results = planAndCommit(jobs);
        count(jobs, results, start);
        return results;
    }

    private List<Result> planAndCommit(List<Job> jobs) {
        var results = new Result[jobs.size()];
        var requests = new PlacementRequest[jobs.size()];
        var pins = pins(jobs);
        var pending = new ArrayList<Integer>();
        for (int i = 0; i < jobs.size(); i++) {
            switch (pins.get(i)) {
                case Pinned.Where where -> {
                    requests[i] = request(jobs.get(i).machine(), jobs.get(i).strategy(), where.pin());
                    pending.add(i);
                }
                case Pinned.Refused refused -> results[i] = refused.result();
            }
        }
        var lastRejection = new HashMap<Integer, String>();
        boolean fresh = false;
        for (int attempt = 0; attempt < ATTEMPTS && !pending.isEmpty(); attempt++) {
            Instant now = clock.instant();
            if (!fresh && cached != null && Duration.between(cached.readAt(), now).compareTo(SNAPSHOT_AGE) > 0) {
                ClusterSnapshot kept = cached.snapshot();
                cached = store.read("read nodes for placement", tx -> withLatestNodes(tx, kept))
                        .map(renewed -> new Cached(renewed, now)).orElse(null);
            }
            if (fresh || cached == null) {
                cached = new Cached(store.read("read cluster for placement", this::snapshot), now);
                fresh = true;
            }
            ClusterSnapshot snapshot = cached.snapshot();
            var decisions = Scheduler.planAll(snapshot, pending.stream().map(i -> requests[i]).toList(), now,
                    seeds.nextLong());
            var placements = new ArrayList<Placement>();
            var planned = new ArrayList<Integer>();
            var refusedOnKept = false;
            for (int k = 0; k < pending.size(); k++) {
                int i = pending.get(k);
                switch (decisions.get(k)) {
                    case PlacementDecision.Refused refused -> {
                        if (fresh) results[i] = new Result.Refused(refused.reason());
                        else refusedOnKept = true;
                    }
                    case PlacementDecision.Placed placed -> {
                        placements.add(new Placement(jobs.get(i).machine().id(), placed.nodeId(), requests[i]));
                        planned.add(i);
                    }
                }
            }
            var committed = placements.isEmpty() ? Map.<Integer, Result>of()
                    : commit(jobs, planned, snapshot, new Plan(snapshot.index(), placements), lastRejection);
            committed.forEach((i, result) -> results[i] = result);
            pending.removeIf(i -> results[i] != null);
            // A refusal on a kept snapshot, or a rejection, is decided again on a fresh one.
            fresh = refusedOnKept || !pending.isEmpty();
            if (refusedOnKept) attempt--; // deciding again on a fresh snapshot is not another attempt

        }
        for (int i : pending) {
            results[i] = new Result.Refused(lastRejection.get(i) + " (still conflicting after " + ATTEMPTS
                    + " attempts)");
        }
        recordRefusals(jobs, results);
        return List.of(results);
    }

    /** Where a job's volumes let it run, or why they refuse it. */
    private sealed interface Pinned {
        record Where(Volumes.Pin pin) implements Pinned {}

        record Refused(Result result) implements Pinned {}
    }

    /** Each job's {@link Volumes.Pin}, read in one transaction when any job mounts volumes. */
    private List<Pinned> pins(List<Job> jobs) {
        if (jobs.stream().allMatch(j -> j.machine().spec().mounts().isEmpty())) {
            return jobs.stream().<Pinned>map(j -> new Pinned.Where(j instanceof Job.Create c && c.fork().isPresent()
                    ? new Volumes.Pin(Optional.of(c.fork().get().node()), Optional.empty()) : Volumes.Pin.NONE))
                    .toList();
        }
        return store.read("read the volumes of " + jobs.size() + " machines", tx -> {
            var pins = new ArrayList<Pinned>(jobs.size());
            for (Job job : jobs) {
                try {
                    pins.add(new Pinned.Where(Volumes.pin(tx, job.machine())));
                } catch (ApiException e) {
                    pins.add(new Pinned.Refused(job instanceof Job.Create && e.code() == ErrorCode.CONFLICT
                            ? new Result.Conflict(e.getMessage()) : new Result.Refused(e.getMessage())));
                }
            }
            return pins;
        });
    }

    /**
     * Commits the plan in one write transaction: the applier's re-check, then each accepted job's write. Returns the
     * results of the accepted and skipped jobs by position; rejected ones are left out (their reason in
     * {@code lastRejection}).
     */
    private Map<Integer, Result> commit(List<Job> jobs, List<Integer> placing, ClusterSnapshot planned, Plan plan,
                                        Map<Integer, String> lastRejection) {
        var byMachine = new HashMap<String, Integer>();
        for (int i : placing) byMachine.put(jobs.get(i).machine().id(), i);
        Set<String> nodeIds = new LinkedHashSet<>();
        plan.placements().forEach(p -> nodeIds.add(p.nodeId()));
        record Committed(Map<Integer, Result> results, long index, List<Placement> placed, Set<String> touched,
                         Map<String, Long> before, Set<String> onlyCreated, List<MachineRow> created,
                         Map<String, String> forks) {}
        Committed done = store.write("place " + placing.size() + " machines", tx -> {
            Instant now = clock.instant();
            // One round trip, with the state index's allocation: the chosen nodes, and the names, fleets and audit
            // chains' heads of every planned create, also those the applier then rejects.
            var nodesRead = tx.nodes().get(nodeIds);
            var namesRead = taken(tx, jobs, plan.placements(), byMachine);
            var fleetsRead = standing(tx, jobs, plan.placements(), byMachine);
            var headsRead = heads(tx, jobs, plan.placements(), byMachine);
            List<NodeRow> nodes = nodesRead.get();
            var nodeNames = new HashMap<String, String>();
            for (NodeRow node : nodes) nodeNames.put(node.id(), node.name());
            PlanOutcome outcome = PlanApplier.apply(latest(tx, nodes, planned), plan, now);
            for (var rejection : outcome.rejected()) {
                lastRejection.put(byMachine.get(rejection.placement().machineId()), rejection.reason());
            }
            var results = new LinkedHashMap<Integer, Result>();
            var inserts = new ArrayList<MachineRow>();
            var forks = new HashMap<String, String>();
            var assignments = new ArrayList<MachineStore.Assignment>();
            var touched = new LinkedHashSet<String>();
            var placed = new ArrayList<Placement>();
            var calls = new ArrayList<AuditLog.Call>();
            var current = current(tx, jobs, outcome.committed(), byMachine);
            var names = namesRead.get();
            var fleets = fleetsRead.get();
            var quotas = quotas(tx, fleets, jobs, outcome.committed(), byMachine);
            for (Placement p : outcome.committed()) {
                int i = byMachine.get(p.machineId());
                Result result = switch (jobs.get(i)) {
                    case Job.Create create -> {
                        var fleet = List.of(create.machine().namespace(), create.machine().fleet());
                        if (create.admitted().isPresent()
                                && !create.admitted().get().equals(fleets.fleets().get(fleet))) {
                            yield new Result.Stale();
                        }
                        var key = List.of(create.machine().namespace(), create.machine().name());
                        Boolean deleted = names.put(key, false);
                        if (deleted != null) {
                            yield new Result.Conflict(deleted ? "already exists" : "a machine of that name exists");
                        }
                        var over = quotas.take(create.machine());
                        if (over.isPresent()) yield over.get();
                        var conflict = attach(tx, create.machine(), p.nodeId(), now);
                        if (conflict.isPresent()) yield conflict.get();
                        inserts.add(create.machine().assignedTo(p.nodeId(), tx.index()));
                        if (create.fork().isPresent()) forks.put(p.machineId(), create.fork().get().source());
                        create.call().ifPresent(calls::add);
                        yield new Result.Placed(p.nodeId(), nodeNames.get(p.nodeId()), tx.index());
                    }
                    case Job.Place place -> {
                        var row = current.get(p.machineId());
                        if (row == null || row.nodeId() != null || row.desiredState() != MachineState.RUNNING) {
                            yield new Result.Skipped();
                        }
                        var conflict = attach(tx, row, p.nodeId(), now);
                        if (conflict.isPresent()) yield conflict.get();
                        assignments.add(new MachineStore.Assignment(p.machineId(), p.nodeId(), null));
                        yield new Result.Placed(p.nodeId(), nodeNames.get(p.nodeId()), tx.index());
                    }
                    case Job.Move move -> {
                        var row = current.get(p.machineId());
                        if (row == null || !move.from().equals(row.nodeId()) || row.deleted()) {
                            yield new Result.Skipped();
                        }
                        var conflict = attach(tx, row, p.nodeId(), now);
                        if (conflict.isPresent()) yield conflict.get();
                        assignments.add(new MachineStore.Assignment(p.machineId(), p.nodeId(), null));
                        touched.add(move.from());
                        yield new Result.Placed(p.nodeId(), nodeNames.get(p.nodeId()), tx.index());
                    }
                };
                if (result instanceof Result.Placed) {
                    touched.add(p.nodeId());
                    placed.add(p);
                }
                results.put(i, result);
            }
            tx.machines().insert(inserts);
            if (!calls.isEmpty()) AuditLog.appendIn(tx, calls, clock, headsRead);
            for (var fork : forks.entrySet()) tx.machines().recordFork(fork.getKey(), fork.getValue());
            tx.machines().assign(assignments, now);
            tx.nodes().touchAssignments(touched);
            var before = new HashMap<String, Long>();
            for (NodeRow node : nodes) before.put(node.id(), node.assignIndex());
            // The nodes whose only change is new machines: a move's or a waiting machine's node changed otherwise.
            var onlyCreated = new HashSet<>(touched);
            for (Placement p : placed) {
                if (!(jobs.get(byMachine.get(p.machineId())) instanceof Job.Create)) onlyCreated.remove(p.nodeId());
            }
            for (Placement p : placed) {
                if (jobs.get(byMachine.get(p.machineId())) instanceof Job.Move move) onlyCreated.remove(move.from());
            }
            return new Committed(results, tx.index(), placed, touched, before, onlyCreated, inserts, forks);
        });
        advanceAssigned(done.index(), done.before(), done.onlyCreated(), done.created(), done.forks());
        keep(plan.snapshotIndex(), done.index(), done.placed(), jobs, byMachine);
        if (!done.touched().isEmpty()) changes.signal(done.touched(), done.index());
        return done.results();
    }

    /**
     * Moves the kept machines of each node in {@code onlyCreated} (assignment index {@code before} until the commit of
     * state index {@code index}) on by the machines {@code created} on it.
     */
    private void advanceAssigned(long index, Map<String, Long> before, Set<String> onlyCreated,
                                 List<MachineRow> created, Map<String, String> forks) {
        var byNode = new HashMap<String, List<MachineRow>>();
        for (MachineRow m : created) byNode.computeIfAbsent(m.nodeId(), n -> new ArrayList<>()).add(m);
        for (String nodeId : onlyCreated) {
            Long previous = before.get(nodeId);
            if (previous == null) continue; // a node the commit did not read: its kept set stays behind its index
            var machines = byNode.getOrDefault(nodeId, List.of());
            var sources = new HashMap<String, String>();
            for (MachineRow m : machines) {
                if (forks.containsKey(m.id())) sources.put(m.id(), forks.get(m.id()));
            }
            assigned.advance(nodeId, previous, index, machines, sources);
        }
    }

    /**
     * Attaches {@code machine}'s volumes on {@code nodeId} in {@code tx}; the result that replaces its placement when
     * they cannot be (a volume meanwhile attached elsewhere or deleted), else empty.
     */
    private static Optional<Result> attach(Tx tx, MachineRow machine, String nodeId, Instant now) throws SQLException {
        if (machine.spec().mounts().isEmpty()) return Optional.empty();
        try {
            Volumes.attach(tx, machine, nodeId, now);
            return Optional.empty();
        } catch (ApiException e) {
            return Optional.of(new Result.Conflict(e.getMessage()));
        }
    }

    /** The current rows of the committed placements' machines that already exist (all but creates). */
    private static Map<String, MachineRow> current(Tx tx, List<Job> jobs, List<Placement> committed,
                                                   Map<String, Integer> byMachine) throws SQLException {
        var ids = new ArrayList<String>();
        for (Placement p : committed) {
            if (!(jobs.get(byMachine.get(p.machineId())) instanceof Job.Create)) ids.add(p.machineId());
        }
        var out = new HashMap<String, MachineRow>();
        for (MachineRow m : tx.machines().get(ids)) out.put(m.id(), m);
        return out;
    }

    /**
     * The names the creates among {@code placements} ask for that are taken, keyed by namespace and name: whether
     * deleted; queued.
     */
    private static Later<Map<List<String>, Boolean>> taken(Tx tx, List<Job> jobs, List<Placement> placements,
                                                          Map<String, Integer> byMachine) throws SQLException {
        var byNamespace = new HashMap<String, Set<String>>();
        for (Placement p : placements) {
            if (jobs.get(byMachine.get(p.machineId())) instanceof Job.Create create) {
                byNamespace.computeIfAbsent(create.machine().namespace(), n -> new HashSet<>())
                        .add(create.machine().name());
            }
        }
        var reads = new HashMap<String, Later<Map<String, Boolean>>>();
        for (var entry : byNamespace.entrySet()) {
            reads.put(entry.getKey(), tx.machines().taken(entry.getKey(), entry.getValue()));
        }
        return () -> {
            var out = new HashMap<List<String>, Boolean>();
            for (var read : reads.entrySet()) {
                read.getValue().get().forEach((name, deleted) -> out.put(List.of(read.getKey(), name), deleted));
            }
            return out;
        };
    }

    /**
     * The quotas of the namespaces the committed creates go to, and what those namespaces hold as the batch's creates
     * are taken in order: read in the commit's write transaction, so no concurrent write can slip between the count
     * and the inserts.
     */
    private static final class QuotaTally {
        private final Map<String, Quota> quotas;
        private final Map<String, QuotaUsage> usage;

        private QuotaTally(Map<String, Quota> quotas, Map<String, QuotaUsage> usage) {
            this.quotas = quotas;
            this.usage = usage;
        }

        /** Counts {@code machine} in its namespace; the result that replaces its placement when it does not fit. */
        Optional<Result> take(MachineRow machine) {
            Quota quota = quotas.get(machine.namespace());
            if (quota == null) return Optional.empty();
            QuotaUsage before = usage.get(machine.namespace());
            QuotaUsage after = before.plus(Quotas.of(machine.spec()));
            var over = Quotas.exceeded(machine.namespace(), quota, before, after);
            if (over.isPresent()) return Optional.of(new Result.OverQuota(over.get()));
            usage.put(machine.namespace(), after);
            return Optional.empty();
        }
    }

    /** The fleets of the creates among {@code placements} as stored, with their quotas, in one read; queued. */
    private static Later<FleetStore.Standing> standing(Tx tx, List<Job> jobs, List<Placement> placements,
                                                       Map<String, Integer> byMachine) throws SQLException {
        var fleets = new LinkedHashSet<List<String>>();
        for (Placement p : placements) {
            if (jobs.get(byMachine.get(p.machineId())) instanceof Job.Create create) {
                fleets.add(List.of(create.machine().namespace(), create.machine().fleet()));
            }
        }
        return tx.fleets().standing(fleets);
    }

    /** The heads of the audit chains of the creates among {@code placements} whose call is audited; queued. */
    private static Later<Map<String, Optional<AuditEntry>>> heads(Tx tx, List<Job> jobs, List<Placement> placements,
                                                                  Map<String, Integer> byMachine) throws SQLException {
        var namespaces = new HashSet<String>();
        for (Placement p : placements) {
            if (jobs.get(byMachine.get(p.machineId())) instanceof Job.Create create && create.call().isPresent()) {
                namespaces.add(create.call().get().namespace());
            }
        }
        return AuditLog.heads(tx, namespaces);
    }

    /**
     * The quotas and usage of the namespaces of the committed creates that have a quota: the quotas as {@code fleets}
     * read them, read alone for a namespace none of whose fleets it found.
     */
    private static QuotaTally quotas(Tx tx, FleetStore.Standing fleets, List<Job> jobs, List<Placement> committed,
                                     Map<String, Integer> byMachine) throws SQLException {
        var quotas = new HashMap<String, Quota>();
        var usage = new HashMap<String, QuotaUsage>();
        var seen = new HashSet<String>();
        for (Placement p : committed) {
            if (!(jobs.get(byMachine.get(p.machineId())) instanceof Job.Create create)) continue;
            String namespace = create.machine().namespace();
            if (!seen.add(namespace)) continue;
            var read = fleets.quotas().get(namespace);
            var quota = read != null ? read : tx.quotas().get(namespace);
            if (quota.isEmpty()) continue;
            quotas.put(namespace, quota.get());
            usage.put(namespace, tx.quotas().usage(namespace));
        }
        return new QuotaTally(quotas, usage);
    }

    /**
     * Keeps the snapshot for the next batch with this commit applied when no other write came between the snapshot
     * and the commit; otherwise drops it. A batch that moved machines drops it too (their old nodes' shares change).
     */
    private void keep(long snapshotIndex, long commitIndex, List<Placement> placed, List<Job> jobs,
                      Map<String, Integer> byMachine) {
        if (cached == null || cached.snapshot().index() != snapshotIndex || commitIndex != snapshotIndex + 1
                || placed.stream().anyMatch(p -> jobs.get(byMachine.get(p.machineId())) instanceof Job.Move)) {
            cached = null;
            return;
        }
        cached = new Cached(cached.snapshot().withPlacements(commitIndex, placed), cached.readAt());
    }

    /** Records on each refused waiting or draining machine why it stays where it is, in one transaction. */
    private void recordRefusals(List<Job> jobs, Result[] results) {
        var notes = new LinkedHashMap<String, String>();
        for (int i = 0; i < jobs.size(); i++) {
            if (!(results[i] instanceof Result.Refused refused)) continue;
            switch (jobs.get(i)) {
                case Job.Place place -> notes.put(place.machine().id(), "awaiting a node: " + refused.reason());
                case Job.Move move -> notes.put(move.machine().id(), "cannot leave draining node: " + refused.reason());
                case Job.Create create -> { }
            }
        }
        if (notes.isEmpty()) return;
        store.update("record why " + notes.size() + " machines have no new node", tx -> {
            Instant now = clock.instant();
            for (var note : notes.entrySet()) tx.machines().setError(note.getKey(), note.getValue(), now);
            return null;
        });
    }

    /**
     * What the scheduler is asked for {@code machine}, whose fleet places with {@code strategy} and whose volumes let
     * it run as {@code pin} says.
     */
    static PlacementRequest request(MachineRow machine, FleetStrategy strategy, Volumes.Pin pin) {
        var driver = Optional.ofNullable(machine.spec().driver()).map(Placements::driver);
        var region = pin.region().or(() -> Optional.ofNullable(machine.region()));
        return switch (strategy) {
            case SPREAD -> new PlacementRequest(new Resources(machine.cpus(), machine.memoryMb()),
                    region, machine.nodeLabels(), driver, Strategy.SPREAD,
                    Optional.of(machine.namespace() + "/" + machine.fleet()), hostPorts(machine.spec().services()),
                    pin.node());
            case BINPACK -> new PlacementRequest(new Resources(machine.cpus(), machine.memoryMb()),
                    region, machine.nodeLabels(), driver, Strategy.BINPACK,
                    Optional.empty(), hostPorts(machine.spec().services()), pin.node());
        };
    }

    /**
     * Why {@code updated}, a new spec for {@code current} (which is on a node), cannot take {@code current}'s place
     * there: the scheduler's reason, deciding on that node as {@code tx} reads it less {@code current}'s share, ports
     * and fleet slot; empty when it fits. Read in the update's write transaction, so nothing placed meanwhile is missed.
     */
    Optional<String> refusalInPlace(Tx tx, MachineRow current, MachineRow updated, FleetStrategy strategy)
            throws SQLException {
        var nodes = new ArrayList<NodeView>();
        for (NodeView n : snapshotOf(tx, tx.nodes().get(List.of(current.nodeId())).get()).nodes()) {
            var fleets = new HashMap<>(n.fleetMachines());
            fleets.computeIfPresent(current.namespace() + "/" + current.fleet(), (k, v) -> v > 1 ? v - 1 : null);
            var ports = new HashSet<>(n.ports());
            ports.removeAll(hostPorts(current.spec().services()));
            nodes.add(new NodeView(n.id(), n.state(), n.labels(), n.drivers(), n.capacity(),
                    n.allocated().subtract(new Resources(current.cpus(), current.memoryMb())), fleets,
                    n.heartbeatExpires(), ports));
        }
        var decision = Scheduler.plan(ClusterSnapshot.of(tx.index(), nodes),
                request(updated, strategy, Volumes.Pin.NONE), clock.instant(), 0);
        return decision instanceof PlacementDecision.Refused refused ? Optional.of(refused.reason()) : Optional.empty();
    }

    /** The scheduler's name for a driver: its own enum, constant for constant. */
    private static Driver driver(dev.bolero.core.Driver driver) {
        return Driver.valueOf(driver.name());
    }

    /**
     * A node other than {@code from} that can take {@code request} now, as the scheduler sees the cluster (a hint:
     * the placement that follows checks again).
     *
     * @throws ApiException {@code failed_precondition} with the scheduler's reason when none can
     */
    String feasibleNode(PlacementRequest request, String from, String action) {
        return store.read(action, tx -> {
            var views = views(tx.nodes().list(), tx.allocations().all(), tx.allocations().fleetCounts(),
                    tx.allocations().publishedPorts()).stream().filter(v -> !v.id().equals(from)).toList();
            return switch (Scheduler.plan(ClusterSnapshot.of(tx.currentIndex(), views), request, clock.instant(),
                    seeds.nextLong())) {
                case PlacementDecision.Placed placed -> placed.nodeId();
                case PlacementDecision.Refused refused -> throw ApiException.failedPrecondition(action + ": "
                        + refused.reason());
            };
        });
    }

    /** The whole cluster as the scheduler sees it, read in {@code tx}. */
    private ClusterSnapshot snapshot(Tx tx) throws SQLException {
        long index = tx.currentIndex();
        return ClusterSnapshot.of(index, views(tx.nodes().list(), tx.allocations().all(),
                tx.allocations().fleetCounts(), tx.allocations().publishedPorts()));
    }

    /**
     * The plan applier's view of {@code nodes}, whose rows were read in write transaction {@code tx}: what they hold
     * taken from {@code planned}, the snapshot the plan was made on, when {@code tx} is the first write after it
     * ({@link #snapshotOf} reads it otherwise). Only write transactions add to what nodes hold (each bumps the state
     * index); the reports that purge deleted machines' rows only free room, so a share so taken is never smaller
     * than the latest one, and the applier never accepts what the latest state refuses. Node rows (capacity, health,
     * heartbeat) are always the latest: reports change them without a write transaction.
     */
    private ClusterSnapshot latest(Tx tx, List<NodeRow> nodes, ClusterSnapshot planned) throws SQLException {
        var views = tx.index() == planned.index() + 1 ? holding(nodes, planned) : Optional.<List<NodeView>>empty();
        return views.isPresent() ? ClusterSnapshot.of(tx.index(), views.get()) : snapshotOf(tx, nodes);
    }

    /** {@code nodes} as their rows say, each holding what it holds in {@code kept}; empty when one is not in it. */
    private Optional<List<NodeView>> holding(List<NodeRow> nodes, ClusterSnapshot kept) {
        var views = new ArrayList<NodeView>(nodes.size());
        for (NodeRow node : nodes) {
            var held = kept.node(node.id());
            if (held.isEmpty()) return Optional.empty();
            views.add(view(node, held.get().allocated(), held.get().fleetMachines(), held.get().ports()));
        }
        return Optional.of(views);
    }

    /**
     * {@code kept} with every node's row read again in {@code tx} (heartbeats' times, capacities and health, which
     * reports change without a write transaction) and what each holds kept; empty when a write came after
     * {@code kept} (the state index moved), which the caller reads whole instead. What nodes hold may be more than
     * the latest (the reports that purge deleted machines' rows free room): a refusal on it is decided again on a
     * whole read.
     */
    private Optional<ClusterSnapshot> withLatestNodes(Tx tx, ClusterSnapshot kept) throws SQLException {
        if (tx.currentIndex() != kept.index()) return Optional.empty();
        return holding(tx.nodes().list(), kept).map(views -> ClusterSnapshot.of(kept.index(), views));
    }

    /** The cluster reduced to {@code nodes}, with their allocations read in {@code tx}. */
    private ClusterSnapshot snapshotOf(Tx tx, List<NodeRow> nodes) throws SQLException {
        AllocationStore allocations = tx.allocations();
        var nodeIds = nodes.stream().map(NodeRow::id).toList();
        return ClusterSnapshot.of(tx.index(), views(nodes, allocations.of(nodeIds),
                allocations.fleetCounts(nodeIds), allocations.publishedPorts(nodeIds)));
    }

    private List<NodeView> views(List<NodeRow> nodes, Map<String, AllocationStore.Allocation> allocations,
                                 Map<String, Map<String, Integer>> fleets,
                                 Map<String, List<MachineSpec.Service>> ports) {
        var views = new ArrayList<NodeView>(nodes.size());
        for (NodeRow node : nodes) {
            var allocation = allocations.get(node.id());
            views.add(view(node,
                    allocation == null ? Resources.ZERO : new Resources(allocation.cpus(), allocation.memoryMb()),
                    fleets.getOrDefault(node.id(), Map.of()), hostPorts(ports.getOrDefault(node.id(), List.of()))));
        }
        return views;
    }

    /** {@code node} as the scheduler sees it, holding {@code allocated}, {@code fleets} and {@code ports}. */
    private NodeView view(NodeRow node, Resources allocated, Map<String, Integer> fleets, Set<HostPort> ports) {
        var drivers = new HashSet<Driver>();
        for (var d : node.drivers()) drivers.add(driver(d));
        return new NodeView(node.id(), NodeState.valueOf(node.state().name()), node.labels(), drivers,
                new Resources(node.capacity().cpus(), node.capacity().memoryMb()), allocated, fleets,
                node.heartbeatAt().plus(downAfter), ports);
    }

    /** The host ports {@code services} publish, as the scheduler compares them on a node. */
    private static Set<HostPort> hostPorts(List<MachineSpec.Service> services) {
        var ports = new HashSet<HostPort>();
        for (MachineSpec.Service s : services) ports.add(new HostPort(HostPort.Protocol.parse(s.protocol()), s.port()));
        return ports;
    }

    /** The refusal as the API's error: {@code failed_precondition} naming the action. */
    static ApiException refused(String action, Result.Refused refused) {
        return ApiException.failedPrecondition(action + ": " + refused.reason());
    }

    /** Stops the worker; jobs still queued fail. */
    @Override
    public void close() {
        closed = true;
        Workers.stop(worker);
    }
}
