package dev.bolero.agent.cluster;

import dev.bolero.agent.machine.MachineService;
import dev.bolero.api.ApiException;
import dev.bolero.api.Machine;
import dev.bolero.core.Driver;
import dev.bolero.core.MachineSpec;
import dev.bolero.core.MachineState;
import dev.bolero.api.wire.Assignment;
import dev.bolero.api.wire.Assignments;
import dev.bolero.api.wire.Capacity;
import dev.bolero.api.wire.Heartbeat;
import dev.bolero.api.wire.HeartbeatResponse;
import dev.bolero.api.wire.JoinRequest;
import dev.bolero.api.wire.JoinResponse;
import dev.bolero.api.wire.MachineReport;
import dev.bolero.api.wire.WireGuardKind;
import dev.bolero.agent.machine.MachineNetwork;
import dev.bolero.network.NodeKey;
import java.lang.management.ManagementFactory;
import io.micrometer.core.instrument.MeterRegistry;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This node as a member of a cluster. {@link #start} joins (or reuses {@code DATA_DIR/node.json}), then two virtual
 * threads run until {@link #close}: one long-polls the assignments, each poll carrying the node's report, and
 * reconciles the node's machines to them (every machine of the node belongs to the cluster: one not assigned is stopped
 * and destroyed), the other sends a heartbeat whenever no report was accepted for a heartbeat interval (a node whose
 * polls are answered that often sends none, nor one whose poll a control plane that records held polls holds) and at
 * once when a machine's state changed, and fences — stops and
 * destroys every machine — once no report has been accepted, by heartbeat or poll, for {@code fence_after_s}
 * ({@link Liveness}).
 * Stream requests in the assignments (logs, events, exec) are answered from the node API at once, each on its own
 * virtual thread ({@link StreamAnswers}).
 *
 * <p>A machine runs in its tenant's network namespace on the node (the assignment's {@code namespace}), so machines of
 * different tenants cannot reach each other. A machine the node refuses to create (a published port already taken,
 * no free address) is reported {@code failed} with the node's reason and not tried again until its assignment's
 * generation changes (a start or stop through the server).
 *
 * <p>A machine assigned {@code suspended} is suspended once it runs (the poll waits for its state to be saved) and
 * resumed by a later {@code running}; a suspended machine assigned {@code stopped} is stopped, its snapshot discarded.
 */
public final class ClusterMember implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ClusterMember.class);
    private static final int POLL_WAIT_S = 10;
    /** States a start leaves: boots, or resumes a suspended machine. */
    private static final Set<MachineState> STARTABLE =
            EnumSet.of(MachineState.CREATED, MachineState.STOPPED, MachineState.FAILED, MachineState.SUSPENDED);
    private static final Set<MachineState> ACTIVE =
            EnumSet.of(MachineState.STARTING, MachineState.RUNNING, MachineState.STOPPING);
    /** States a stop leaves: an active machine, and a suspended one (its snapshot is discarded). */
    private static final Set<MachineState> STOPPABLE = EnumSet.of(MachineState.STARTING, MachineState.RUNNING,
            MachineState.STOPPING, MachineState.SUSPENDED);
    private static final Set<MachineState> AT_REST =
            EnumSet.of(MachineState.CREATED, MachineState.STOPPED, MachineState.FAILED, MachineState.DESTROYED);

    private final NodeProtocol protocol;
    private final JoinResponse node;
    private final Capacity capacity;
    /** The drivers this node reports: the one its machines run with. */
    private final List<Driver> drivers;
    private final MachineService machines;
    private final Generations generations;
    private final StreamAnswers streams;
    private final IncomingVolumes incoming;
    /** The node's part in the private network; empty when it takes none. */
    private final Optional<PrivateNode> privateNode;
    private final Path dataDir;
    /** Machines whose creation this node refused, by id: reported failed until their generation changes. */
    private final Map<String, Refusal> refused = new ConcurrentHashMap<>();
    private final Semaphore heartbeatSoon = new Semaphore(0);
    /** Machines with a {@link #reconcileWhenLeft} waiter. */
    private final Set<String> deferred = ConcurrentHashMap.newKeySet();
    private final Object reconciling = new Object();
    private volatile boolean closed;
    private volatile boolean fenced;
    /** When a report was last accepted, by heartbeat or poll. */
    private final Liveness liveness;
    /** Heartbeats refused since the last accepted one, and whether every failure since then was such a refusal. */
    private int refusedInARow;
    private boolean onlyRefused = true;
    private volatile Assignments latest;
    /** Whether polls carry the node's report (false once the control plane refused that: an older one). */
    private volatile boolean reportOnPoll = true;
    /**
     * Whether the control plane's last answer to a poll that waited to its end said it recorded the node's heartbeat
     * then ({@link NodeProtocol.Polled#heldMillis}), or no such answer came yet: polls then stand for heartbeats while
     * they are held (against an older control plane that costs one shorter poll: {@link Liveness} never counts more
     * than the answers prove). Only the poll thread changes it.
     */
    private boolean heldPolls = true;
    private final Thread poller;
    private final Thread beater;

    private ClusterMember(NodeProtocol protocol, JoinResponse node, Capacity capacity, MachineService machines,
                          Generations generations, StreamAnswers streams, Optional<PrivateNode> privateNode,
                          Path dataDir) {
        this.privateNode = privateNode;
        this.dataDir = dataDir;
        this.protocol = protocol;
        this.node = node;
        this.capacity = capacity;
        this.drivers = List.of(machines.driver());
        this.machines = machines;
        this.generations = generations;
        this.streams = streams;
        this.incoming = new IncomingVolumes(protocol, node, machines.volumes());
        this.liveness = new Liveness(System::nanoTime, Duration.ofSeconds(node.heartbeatIntervalS()),
                Duration.ofSeconds(node.fenceAfterS()));
        this.poller = Thread.ofVirtual().name("cluster-poll-" + node.nodeId()).unstarted(this::pollLoop);
        this.beater = Thread.ofVirtual().name("cluster-heartbeat-" + node.nodeId()).unstarted(this::heartbeatLoop);
    }

    /**
     * Joins the cluster unless {@code dataDir} already holds this node's credential, and starts reconciling.
     *
     * @throws IllegalStateException when the join is refused or the server cannot be reached, or node.json is
     *     unreadable
     * @param nodeApi the base URL of this node's API, whose answers stream requests relay
     * @param network the node network, which takes the private network's layout when the node is part of it
     */
    public static ClusterMember start(ClusterConfig config, Path dataDir, MachineService machines, URI nodeApi,
                                      MachineNetwork network) {
        var protocol = new NodeProtocol(config.servers());
        Capacity capacity = config.capacity().orElseGet(ClusterMember::hostCapacity);
        Optional<NodeKey> key = config.privateNetwork().map(p -> PrivateNode.key(dataDir));
        JoinResponse node = NodeCredentials.load(dataDir).orElseGet(() -> {
            try {
                JoinResponse joined = protocol.join(config.joinToken(),
                        new JoinRequest(config.nodeName(), config.labels(), List.of(machines.driver()), capacity,
                                config.privateNetwork().map(p -> PrivateNode.announced(p, key.orElseThrow()))
                                        .orElse(null)));
                NodeCredentials.store(dataDir, joined);
                log.info("joined {} as node {} ({})", protocol.server(), joined.nodeId(), config.nodeName());
                return joined;
            } catch (NodeProtocol.Failure | ApiException e) {
                throw new IllegalStateException(e.getMessage(), e);
            }
        });
        Optional<PrivateNode> privateNode = Optional.empty();
        if (config.privateNetwork().isPresent()) {
            if (node.privateNetwork() == null) {
                throw new IllegalStateException("join the private network: node " + node.nodeId()
                        + " joined without it; a node's part in it is fixed at its join (remove "
                        + dataDir.resolve("node.json") + " to join again as a new node)");
            }
            privateNode = Optional.of(PrivateNode.start(config.privateNetwork().get(), key.orElseThrow(),
                    node.privateNetwork(), network, dataDir));
        }
        var member = new ClusterMember(protocol, node, capacity, machines, new Generations(dataDir.resolve("bolero.db")),
                new StreamAnswers(node, nodeApi), privateNode, dataDir);
        // A machine's new state (running once its workload started, stopped, failed, suspended) goes to the control
        // plane at once, not with the next poll or heartbeat: the gateway routes to a machine once it reads it running.
        machines.onStateChange(member.heartbeatSoon::release);
        member.poller.start();
        member.beater.start();
        return member;
    }

    /**
     * Whether the node whose agent keeps its data in {@code dataDir} joined its cluster in the private network; empty
     * when it has not joined. A node's part in it is fixed at its join ({@link #start} refuses to change it).
     *
     * @throws IllegalStateException when the stored credential cannot be read
     */
    public static Optional<Boolean> joinedInPrivateNetwork(Path dataDir) {
        return NodeCredentials.load(dataDir).map(joined -> joined.privateNetwork() != null);
    }

    /** The node id the control plane gave this node. */
    public String nodeId() {
        return node.nodeId();
    }

    /** Which WireGuard carries the node's private-network link; empty when it takes no part in it. */
    public Optional<WireGuardKind> wireGuard() {
        return privateNode.map(PrivateNode::kind);
    }

    /**
     * Publishes the node's private-network metrics on {@code registry} ({@code bolero_wireguard_peers}); nothing when
     * it takes no part in the private network.
     */
    public void bindMetrics(MeterRegistry registry) {
        privateNode.ifPresent(p -> p.bindMetrics(registry));
    }

    private void pollLoop() {
        long index = 0;
        while (!closed) {
            try {
                Assignments a = poll(index);
                index = a.index();
                latest = a;
                streams.answer(a.streams());
                privateNode.ifPresent(p -> p.apply(a));
                // before the machines that mount them
                machines.volumesGrown(machines.volumes().apply(a.volumes(), a.incoming(), a.snapshots(),
                        a.snapshotCopies()));
                incoming.follow(a.incoming(), a.snapshotCopies());
                reconcile(a);
            } catch (NodeProtocol.Failure e) {
                if (closed) return;
                log.warn("{}", e.getMessage());
                if (!sleep(Duration.ofSeconds(1))) return;
            } catch (RuntimeException e) {
                log.error("reconcile node {}", node.nodeId(), e);
                if (!sleep(Duration.ofSeconds(1))) return;
            }
        }
    }

    /**
     * The node's assignments once their index differs from {@code index}, or after {@value #POLL_WAIT_S} s (then the
     * latest ones again). The poll carries the node's report of its machines, so what a reconcile changed reaches the
     * control plane with the next poll, and the poll stands for a heartbeat ({@link #accepted}); a control plane without
     * that call ({@code 405}) is polled without it, and the heartbeat after a change carries the report instead. A
     * control plane that records a held poll's end as the node's heartbeat ({@link #heldPolls}) is polled with the
     * shorter wait of {@link Liveness#heldPollWait}, and no heartbeat is sent while such a poll is held.
     */
    private Assignments poll(long index) {
        Assignments a = latest;
        if (reportOnPoll && a != null) {
            Optional<Duration> heldWait = heldPolls ? liveness.heldPollWait() : Optional.empty();
            int waitS = heldWait.map(w -> (int) w.toSeconds()).orElse(POLL_WAIT_S);
            long sent = liveness.sending();
            heldWait.ifPresent(w -> liveness.holding(sent, w));
            try {
                NodeProtocol.Polled answer = protocol.reportAndPoll(node, heartbeat(), index, waitS);
                accepted(sent, "polls");
                answer.heldMillis().ifPresent(ms -> liveness.acceptedHeld(sent, ms));
                if (answer.assignments().isEmpty() && heldPolls && answer.heldMillis().isEmpty()) {
                    // This control plane no longer records held polls (another, older replica answered): heartbeats
                    // are due as usual, one now.
                    heldPolls = false;
                    heartbeatSoon.release();
                } else if (answer.assignments().isEmpty()) {
                    heldPolls = answer.heldMillis().isPresent();
                }
                return answer.assignments().orElse(a);
            } catch (NodeProtocol.Failure e) {
                if (heldPolls) {
                    // The held poll stood for heartbeats: one now, as its failure may leave none for a while.
                    heldPolls = false;
                    heartbeatSoon.release();
                }
                if (e.status != 405) throw e;
                reportOnPoll = false;
                log.info("control plane {} takes no report with the poll: reporting by heartbeats alone",
                        protocol.server());
            } finally {
                liveness.released();
            }
        }
        return protocol.assignments(node, index, POLL_WAIT_S);
    }

    /**
     * Sends a heartbeat at start, when asked for one ({@link #heartbeatSoon}: a machine's state changed, or a reconcile
     * changed something and polls carry no report, or a held poll that stood for heartbeats failed), and once no report
     * was accepted for a heartbeat interval and no held poll stands for heartbeats ({@link Liveness#heartbeatDue}: so
     * while polls carrying the report are answered more often, or are held by a control plane that records them, none);
     * after a failed one, again an interval later. Fences once no report was accepted for {@code fence_after_s}.
     */
    private void heartbeatLoop() {
        Duration interval = Duration.ofSeconds(node.heartbeatIntervalS());
        boolean soon = true;
        while (!closed) {
            boolean failed = false;
            if (soon || liveness.heartbeatDue()) {
                failed = !beat(interval);
                if (closed) return;
            } else {
                // A poll's report was accepted within the interval: it stood for this interval's heartbeat.
                refusedInARow = 0;
                onlyRefused = true;
            }
            if (!fenced && liveness.fenceDue()) {
                fence();
                if (onlyRefused && refusedInARow >= 2) {
                    leave();
                    return;
                }
            }
            long wait = failed ? interval.toNanos() : Math.max(1, liveness.untilHeartbeatDue());
            try {
                soon = heartbeatSoon.tryAcquire(wait, TimeUnit.NANOSECONDS);
                heartbeatSoon.drainPermits();
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    /**
     * Sends one heartbeat; counts a refusal of the node's credential ({@link #refusedInARow}).
     *
     * @return whether it was accepted
     */
    private boolean beat(Duration interval) {
        try {
            long sent = liveness.sending();
            HeartbeatResponse answer = protocol.heartbeat(node, heartbeat(), interval);
            refusedInARow = 0;
            onlyRefused = true;
            accepted(sent, "heartbeats (state " + answer.state().wireName() + ")");
            return true;
        } catch (NodeProtocol.Failure e) {
            if (closed) return false;
            log.warn("{}", e.getMessage());
            // 401: the credential is unknown; 404: a replica that still holds it cached has no such node.
            if (e.status == 401 || e.status == 404) {
                refusedInARow++;
            } else {
                onlyRefused = false;
            }
        } catch (RuntimeException e) {
            log.error("heartbeat of node {}", node.nodeId(), e);
            onlyRefused = false;
        }
        return false;
    }

    /**
     * Records that the report sent at {@code sent} ({@link Liveness#sending}) was accepted ({@code how}: by heartbeats
     * or polls, for the log); a fenced node is so no longer, and reconciles its latest assignments.
     */
    private void accepted(long sent, String how) {
        liveness.accepted(sent);
        if (!fenced) return;
        synchronized (reconciling) {
            if (!fenced) return;
            fenced = false;
        }
        log.info("node {}: reports accepted again by {}, reconciling", node.nodeId(), how);
        Assignments a = latest;
        if (a != null) reconcile(a);
    }

    private Heartbeat heartbeat() {
        var reports = new ArrayList<MachineReport>();
        machines.list().forEach(m -> reports.add(new MachineReport(m.id(), generations.applied(m.id()), m.state(),
                m.imageDigest(), m.exitCode(), m.error(), m.privateIp(), m.checks())));
        refused.forEach((id, r) -> reports.add(
                new MachineReport(id, r.generation(), MachineState.FAILED, null, null, r.error(), null, List.of())));
        Assignments a = latest;
        if (a != null) {
            Set<String> here = reports.stream().map(MachineReport::id).collect(Collectors.toSet());
            for (Assignment w : a.machines()) {
                if (!here.contains(w.id()) && destroyedItself(w)) reports.add(new MachineReport(w.id(),
                        w.generation(), MachineState.DESTROYED, null, null, null, null, List.of()));
            }
        }
        return new Heartbeat(capacity, drivers, reports, privateNode.map(PrivateNode::reported).orElse(null));
    }

    /** Makes the node's machines match {@code a}: the complete desired set. */
    void reconcile(Assignments a) {
        synchronized (reconciling) {
            if (fenced || closed) return;
            boolean changed = false;
            Map<String, Machine> local = machines.list().stream()
                    .collect(Collectors.toMap(Machine::id, Function.identity()));
            Set<String> assigned = a.machines().stream().map(Assignment::id).collect(Collectors.toSet());
            changed |= refused.keySet().retainAll(assigned);
            var known = new java.util.HashSet<>(assigned);
            known.addAll(local.keySet());
            generations.retain(known);
            for (Machine m : local.values()) {
                if (!assigned.contains(m.id())) {
                    remove(m.id(), "not assigned to node " + node.nodeId() + " any more");
                    changed = true;
                }
            }
            machines.fleets(a.machines().stream().filter(m -> m.fleet() != null)
                    .collect(Collectors.toMap(Assignment::id, Assignment::fleet)));
            changed |= forkClones(a, local);
            for (Assignment want : a.machines()) {
                try {
                    changed |= apply(want, local.get(want.id()));
                } catch (ApiException e) {
                    log.warn("machine={} apply generation {} ({}): {}", want.id(), want.generation(),
                            want.desiredState(), e.getMessage());
                }
            }
            if (changed && !reportOnPoll) heartbeatSoon.release();
        }
    }

    /**
     * Makes the fork clones of {@code a} that are not here yet and whose source runs here: those of one source
     * together, from one live snapshot of it ({@link MachineService#fork}). Made clones join {@code local} as applied;
     * a refused fork is reported on each of its clones. Clones whose source does not run here are left to
     * {@link #apply}, which creates and boots them as any machine.
     *
     * @return whether anything changed
     */
    private boolean forkClones(Assignments a, Map<String, Machine> local) {
        Map<String, List<Assignment>> bySource = a.machines().stream()
                .filter(w -> w.forkOf() != null && w.desiredState() == MachineState.RUNNING && !local.containsKey(w.id()))
                .filter(w -> local.containsKey(w.forkOf()) && local.get(w.forkOf()).state() == MachineState.RUNNING)
                .filter(w -> refused.get(w.id()) == null || refused.get(w.id()).generation() != w.generation())
                .collect(Collectors.groupingBy(Assignment::forkOf, java.util.LinkedHashMap::new, Collectors.toList()));
        for (var e : bySource.entrySet()) {
            List<Assignment> clones = e.getValue();
            clones.forEach(w -> generations.forget(w.id()));
            try {
                for (Machine m : machines.fork(e.getKey(), clones.stream()
                        .map(w -> new MachineService.Clone(w.id(), w.namespace() + "." + w.name())).toList())) {
                    local.put(m.id(), m);
                }
                for (Assignment w : clones) {
                    refused.remove(w.id());
                    generations.applied(w.id(), w.generation());
                }
                log.info("machine={} forked into {}", e.getKey(), clones.stream().map(Assignment::id).toList());
            } catch (ApiException ex) {
                String error = "fork on node " + node.nodeId() + " refused: " + ex.getMessage();
                log.warn("machine={} {}", e.getKey(), error);
                clones.forEach(w -> refused.put(w.id(), new Refusal(w.generation(), error)));
            } catch (InterruptedException ex) {
                Thread.currentThread().interrupt();
                return true;
            }
        }
        return !bySource.isEmpty();
    }

    private boolean apply(Assignment want, Machine have) {
        if (!want.config().secrets().isEmpty()) machines.secrets(want.id(), want.secrets());
        if (have == null) {
            if (destroyedItself(want)) return false; // reported destroyed until the control plane deletes it
            Refusal refusal = refused.get(want.id());
            if (refusal != null && refusal.generation() == want.generation()) return false;
            generations.forget(want.id());
            try {
                have = machines.create(want.id(), want.namespace() + "." + want.name(), want.namespace(),
                        want.config());
            } catch (ApiException e) {
                String error = "create on node " + node.nodeId() + " refused: " + e.getMessage();
                log.warn("machine={} generation {}: {}", want.id(), want.generation(), error);
                refused.put(want.id(), new Refusal(want.generation(), error));
                return true;
            }
            refused.remove(want.id());
        } else if (generations.applied(want.id()) == want.generation()) {
            return false;
        } else if (!have.config().equals(want.config())) {
            // An in-place update: the machine is rebuilt from its new config under its id.
            remove(want.id(), "its config changed (an in-place update): replacing it");
            refused.remove(want.id());
            return apply(want, null);
        }
        switch (want.desiredState()) {
            case RUNNING -> {
                if (STARTABLE.contains(have.state())) {
                    machines.start(want.id());
                } else if (have.state() == MachineState.STOPPING) {
                    reconcileWhenLeft(want.id(), MachineState.STOPPING);
                    return false;    // applied once it has stopped
                }
            }
            case STOPPED -> {
                if (STOPPABLE.contains(have.state())) {
                    machines.stop(want.id(), want.stop() != null ? want.stop() : MachineSpec.Stop.AS_CONFIGURED);
                }
            }
            case SUSPENDED -> {
                switch (have.state()) {
                    case RUNNING -> suspend(want);
                    case STARTING -> {
                        reconcileWhenLeft(want.id(), MachineState.STARTING);
                        return false;    // applied once it runs
                    }
                    // At rest or on its way there (a machine moved here while suspended: created, not booted), or
                    // suspended already: nothing to save; a start boots or resumes it.
                    case CREATED, STOPPING, STOPPED, FAILED, SUSPENDED, DESTROYED -> { }
                }
            }
            default -> throw ApiException.invalid("desired state '" + want.desiredState().wireName() + "' is unknown");
        }
        generations.applied(want.id(), want.generation());
        log.info("machine={} generation {} applied: {}", want.id(), want.generation(), want.desiredState());
        return true;
    }

    /**
     * Reconciles the latest assignments again once machine {@code id} has left {@code state}, for an assignment that
     * cannot be applied while it is in that state: at once rather than at the next poll answer, which may be
     * {@value #POLL_WAIT_S} s away. One waiter per machine; it gives up after {@value #POLL_WAIT_S} s (the next poll
     * answer reconciles then).
     */
    private void reconcileWhenLeft(String id, MachineState state) {
        if (!deferred.add(id)) return;
        Thread.ofVirtual().name("reconcile-after-" + id).start(() -> {
            try {
                machines.await(id, EnumSet.complementOf(EnumSet.of(state)), Duration.ofSeconds(POLL_WAIT_S));
            } catch (ApiException e) {
                return; // gone, or still in that state: the next poll answer reconciles
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } finally {
                deferred.remove(id);
            }
            Assignments a = latest;
            if (a != null && !closed) reconcile(a);
        });
    }

    /**
     * Suspends the machine, waiting for its state to be saved. A refusal or a failed save (the machine runs on; the
     * node records a {@code suspend_failed} event for the latter) is logged and not tried again until the
     * assignment's generation changes: a save that failed once would most likely fail again.
     */
    private void suspend(Assignment want) {
        try {
            machines.suspend(want.id());
        } catch (ApiException e) {
            log.warn("machine={} generation {}: suspend refused, it runs on: {}", want.id(), want.generation(),
                    e.getMessage());
        }
    }

    /**
     * Whether the assigned machine, when absent here, destroyed itself: its config says {@code auto_destroy} and this node
     * applied its current generation, so it was made here and deleted itself when its run ended. It is reported
     * {@code destroyed} (the control plane then deletes it), never made again.
     */
    private boolean destroyedItself(Assignment want) {
        return want.config().autoDestroy() && generations.applied(want.id()) == want.generation();
    }

    /** A refused creation: the assignment generation it was refused at and the node's reason. */
    private record Refusal(long generation, String error) {}

    /** Stops (SIGTERM, 10 s) and destroys a machine. */
    private void remove(String id, String why) {
        log.info("machine={} removing: {}", id, why);
        try {
            if (ACTIVE.contains(machines.get(id).state())) {
                machines.stop(id, MachineSpec.Stop.AS_CONFIGURED);
                try {
                    machines.await(id, AT_REST, Duration.ofSeconds(MachineSpec.Stop.DEFAULT_TIMEOUT_S + 5));
                } catch (ApiException e) {
                    log.warn("machine={} did not stop in time, destroying it: {}", id, e.getMessage());
                }
            }
            machines.delete(id, true);
            generations.forget(id);
        } catch (ApiException e) {
            log.warn("machine={} remove: {}", id, e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** No report accepted for fence_after_s: the server may move our machines, so none may keep running. */
    private void fence() {
        synchronized (reconciling) {
            fenced = true;
            log.warn("node {}: no report accepted for {} s, fencing: stopping every machine", node.nodeId(),
                    node.fenceAfterS());
            for (Machine m : machines.list()) remove(m.id(), "fenced");
        }
    }

    /**
     * The control plane refused this node's credential, or knew no such node, for every heartbeat of fence_after_s (the
     * node was removed, {@code DELETE /v1/nodes/{id}}; the machines are fenced already): stops polling and heartbeating
     * and leaves the private network, so no link, peer or rule of a node the cluster no longer has stays behind. Waiting out
     * fence_after_s, rather than leaving at the first refusal, keeps one misconfigured replica from tearing links down.
     */
    private void leave() {
        log.error("node {}: the control plane refused this node's credential for {} s: it was removed from the "
                + "cluster; leaving it (stop this agent, or remove {} to join again as a new node)", node.nodeId(),
                node.fenceAfterS(), dataDir.resolve("node.json"));
        closed = true;
        poller.interrupt();
        privateNode.ifPresent(p -> p.leave(dataDir));
    }

    private static Capacity hostCapacity() {
        var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        return new Capacity(Runtime.getRuntime().availableProcessors(), os.getTotalMemorySize() / (1024 * 1024));
    }

    private static boolean sleep(Duration d) {
        try {
            Thread.sleep(d);
            return true;
        } catch (InterruptedException e) {
            return false;
        }
    }

    /** Stops polling and heartbeating; the machines keep running. */
    @Override
    public void close() {
        closed = true;
        machines.onStateChange(() -> { });
        poller.interrupt();
        beater.interrupt();
        streams.close();
        try {
            poller.join(Duration.ofSeconds(20));
            beater.join(Duration.ofSeconds(20));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        generations.close();
        privateNode.ifPresent(p -> {
            // The link outlives the agent for its machines' flows; with none left it would only linger.
            if (machines.list().isEmpty()) {
                p.closeWithLink("stop with no machine left");
            } else {
                p.close();
            }
        });
    }
}
