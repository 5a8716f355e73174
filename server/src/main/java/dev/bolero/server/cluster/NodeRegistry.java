package dev.bolero.server.cluster;

import dev.bolero.api.ApiException;
import dev.bolero.server.store.AllocationStore;
import dev.bolero.server.store.MachineRow;
import dev.bolero.server.store.MachineStore;
import dev.bolero.server.store.NodeRow;
import dev.bolero.server.store.NodeStore;
import dev.bolero.server.store.Page;
import dev.bolero.server.store.PrivateNetworkStore;
import dev.bolero.server.store.ServerStore;
import dev.bolero.server.store.Tx;
import dev.bolero.api.wire.Assignment;
import dev.bolero.api.wire.Assignments;
import dev.bolero.api.wire.Capacity;
import dev.bolero.api.wire.Heartbeat;
import dev.bolero.api.wire.HeartbeatResponse;
import dev.bolero.api.wire.JoinRequest;
import dev.bolero.api.wire.JoinResponse;
import dev.bolero.api.wire.MachineReport;
import dev.bolero.api.wire.NodeInfo;
import dev.bolero.api.wire.NodeLink;
import dev.bolero.api.wire.NodeVolume;
import dev.bolero.api.wire.PrivateNetworkPlan;
import dev.bolero.api.wire.SnapshotCopyOrder;
import dev.bolero.api.wire.StreamRequest;
import dev.bolero.api.wire.VolumeMoveOrder;
import dev.bolero.network.PrivateAddressing;
import dev.bolero.core.MachineSpec;
import dev.bolero.core.MachineState;
import dev.bolero.core.NodeState;
import dev.bolero.server.secrets.Secrets;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node side of the control plane (join, assignments, heartbeats; see {@code docs/cluster-protocol.md}) and the
 * operators' view of nodes (list, cordon, uncordon, drain). Throws {@link ApiException} naming the action.
 */
public final class NodeRegistry implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(NodeRegistry.class);

    private final ServerStore store;
    private final Clock clock;
    private final Changes changes;
    private final Timing timing;
    private final Streams streams;
    private final Secrets secrets;
    private final AssignedMachines assigned;
    private final TokenCache tokens;
    /** The private network's address plan ({@link AddressPlan}): fixed once indexes of it are given. */
    private final PrivateAddressing plan;
    /**
     * Nodes found to take no part in the private network: a node's part in it is fixed at its join, so these never
     * will, and their reports and poll answers skip the look ({@link #member}).
     */
    private final Set<String> outsidePrivateNetwork = java.util.concurrent.ConcurrentHashMap.newKeySet();
    /** The ends of held polls, recorded as heartbeats a tick at a time. */
    private final HeldBeats heldBeats;
    /** Ready nodes' reports, recorded a tick at a time. */
    private final ReadyReports reports;

    /**
     * The protocol's clocks.
     *
     * @param heartbeatInterval how often agents send heartbeats
     * @param downAfter a node silent this long is down and its machines move
     * @param fenceAfter an agent whose heartbeats failed this long stops its machines; less than {@code downAfter}
     */
    public record Timing(Duration heartbeatInterval, Duration downAfter, Duration fenceAfter) {
        public Timing {
            if (fenceAfter.compareTo(downAfter) >= 0 || heartbeatInterval.compareTo(fenceAfter) >= 0) {
                throw new IllegalArgumentException("timing: need heartbeat interval < fence after < down after, got "
                        + heartbeatInterval + ", " + fenceAfter + ", " + downAfter);
            }
        }
    }

    /**
     * @param assigned the nodes' machines kept between poll answers; placements advance it
     * @param tokens the credentials this server keeps: a removed node's is forgotten at once
     * @param plan the cluster's private-network address plan
     */
    NodeRegistry(ServerStore store, Clock clock, Changes changes, Timing timing, Streams streams, Secrets secrets,
                 AssignedMachines assigned, TokenCache tokens, PrivateAddressing plan) {
        this.tokens = tokens;
        this.plan = plan;
        this.secrets = secrets;
        this.assigned = assigned;
        this.store = store;
        this.clock = clock;
        this.changes = changes;
        this.timing = timing;
        this.streams = streams;
        this.heldBeats = new HeldBeats(store, clock);
        this.reports = new ReadyReports(store, clock);
    }

    /**
     * Registers a node; the credential in the answer is shown only here. A join carrying {@code private_network} gets
     * the node an index in the private network's address plan (the lowest free one), and the other members' peers
     * follow (their assignment indexes are bumped).
     *
     * @throws ApiException {@code failed_precondition} when every node index of the plan is taken
     */
    public JoinResponse join(JoinRequest request) {
        String id = Tokens.id();
        String credential = Tokens.generate();
        Instant now = clock.instant();
        String action = "join node " + request.name();
        var joined = store.write(action, tx -> {
            tx.nodes().insert(NodeRow.joined(id, request.name(), request.labels(), request.drivers(), request.capacity(),
                    tx.index(), now));
            tx.tokens().insertNode("node-" + id, Tokens.hash(credential), id, now);
            if (request.privateNetwork() == null) return new Joined(null, List.<String>of());
            AddressPlan.check(tx, plan, action);
            var members = tx.privateNetwork().members();
            int index = PrivateAddressing.lowestFree(members.stream().map(PrivateNetworkStore.Member::index).toList(),
                    plan.nodeIndexes()).orElseThrow(() -> ApiException.failedPrecondition(action
                            + ": the private network has no free node index (" + plan.nodeIndexes() + " taken)"));
            tx.privateNetwork().join(id, index, request.privateNetwork());
            var others = members.stream().map(PrivateNetworkStore.Member::nodeId).toList();
            tx.nodes().touchAssignments(others);
            return new Joined(index, others);
        });
        log.info("node joined id={} name={} labels={} private_index={}", id, request.name(), request.labels(),
                joined.index());
        changes.signal(joined.touched());
        return new JoinResponse(id, credential, seconds(timing.heartbeatInterval()), seconds(timing.downAfter()),
                seconds(timing.fenceAfter()), joined.index() == null ? null
                        : new PrivateNetworkPlan(plan.pool(), plan.nodeBits(), plan.namespaceBits(), joined.index()));
    }

    /** A join's outcome: the node's private index (null: not a member) and the members whose peers changed. */
    private record Joined(Integer index, List<String> touched) {}

    /**
     * The node's assignments once its assignment index differs from {@code index}, or after {@code wait} with the
     * index unchanged. Each look at the store is one read transaction: the node's row alone while its index is
     * unchanged, the whole answer in the same transaction once it has changed.
     */
    public Assignments assignments(String nodeId, long index, Duration wait) throws InterruptedException {
        return poll(nodeId, index, wait, true, OptionalLong.empty()).orElseThrow();
    }

    /**
     * Records {@code report} as {@link #heartbeat} does, then the node's assignments once its assignment index differs
     * from {@code index}; none when {@code wait} passes with the index unchanged (the node has them already), and then
     * the node's heartbeat is recorded again (with those of the other polls ending in the same tick: {@link HeldBeats}),
     * so the poll held this long stood for its heartbeats. Read as
     * {@link #assignments} reads them, except that the heartbeat's read of the node's assignment index is the poll's
     * first look: a poll whose index is current reads nothing more before it waits.
     */
    public Polled reportAndPoll(String nodeId, Heartbeat report, long index, Duration wait)
            throws InterruptedException {
        long received = System.nanoTime();
        long seen = changes.nodeVersion(nodeId);
        long current = heartbeat(nodeId, report).index();
        var answer = poll(nodeId, index, wait, false, current == index ? OptionalLong.of(seen) : OptionalLong.empty());
        return new Polled(answer, answer.isPresent() ? OptionalLong.empty()
                : heldBeats.record(nodeId, received));
    }

    /**
     * A report-and-poll's outcome.
     *
     * @param assignments the node's assignments when its index moved; empty when the wait ended without
     * @param heldMillis for an answer without assignments whose end recorded the node's heartbeat: how many
     *     milliseconds, at least, passed between taking the poll's report and that record (monotonic, so the node may
     *     count its report as accepted that much after it sent it); empty otherwise
     */
    public record Polled(Optional<Assignments> assignments, OptionalLong heldMillis) {}


    /**
     * The long poll of {@link #assignments} ({@code answerUnchanged}) or {@link #reportAndPoll}; {@code
     * unchangedSince}, when present, is the node's {@link Changes#nodeVersion} taken before a read that found its index
     * still {@code index}: the poll waits for a change before it reads.
     */
    private Optional<Assignments> poll(String nodeId, long index, Duration wait, boolean answerUnchanged,
                                       OptionalLong unchangedSince) throws InterruptedException {
        String action = "poll assignments of node " + nodeId;
        Instant deadline = clock.instant().plus(wait);
        if (unchangedSince.isPresent()) {
            Duration left = Duration.between(clock.instant(), deadline);
            if (!answerUnchanged && (left.isNegative() || left.isZero())) return Optional.empty();
            changes.awaitNode(nodeId, unchangedSince.getAsLong(), left);
        }
        // Changes made by this process wake the poll; with a shared store, other servers' changes wake it through the
        // AssignmentWatch. Versions are taken before each read, so a change between the read and the wait is not
        // missed.
        boolean numbered = false;
        OptionalLong looked = unchangedSince;
        while (true) {
            long seen = changes.nodeVersion(nodeId);
            OptionalLong stamped = changes.stampedIndex(nodeId, seen);
            Duration left = Duration.between(clock.instant(), deadline);
            boolean over = left.isNegative() || left.isZero();
            // A report-and-poll whose wait ended with no change signalled since its last look ends without another:
            // its node polls again at once, and that poll's report reads the index (a change another server made and
            // the watch has not signalled yet is answered then).
            if (over && !answerUnchanged && looked.isPresent() && looked.getAsLong() == seen) return Optional.empty();
            boolean mayNumber = !numbered;
            Poll poll = store.read(action, tx -> {
                // The newest change signalled for the node was this process's, stamped with its index, and the
                // machines at that index are kept: the answer needs no look at the index (a later change by another
                // replica is answered at the node's next poll, whose report reads the index).
                if (stamped.isPresent() && stamped.getAsLong() != index) {
                    var kept = assigned.at(nodeId, stamped.getAsLong());
                    if (kept.isPresent()) return answer(tx, nodeId, stamped.getAsLong(), kept, mayNumber);
                }
                // The index first: machines read after it are at least as new, so no change is ever missed.
                NodeRow node = tx.nodes().get(nodeId)
                        .orElseThrow(() -> ApiException.notFound(action + ": no such node"));
                long current = node.assignIndex();
                if (current != index) return answer(tx, nodeId, current, assigned.at(nodeId, current), mayNumber);
                if (!over) return new Poll.Unchanged();
                return answerUnchanged ? answer(tx, nodeId, current, assigned.at(nodeId, current), mayNumber)
                        : new Poll.Over();
            });
            switch (poll) {
                case Poll.Answer(Assignments answer) -> {
                    return Optional.of(answer);
                }
                case Poll.Over() -> {
                    return Optional.empty();
                }
                case Poll.Unnumbered() -> {
                    numberNamespaces(nodeId);
                    numbered = true;
                }
                case Poll.Unchanged() -> {
                    looked = OptionalLong.of(seen);
                    changes.awaitNode(nodeId, seen, left);
                }
            }
        }
    }

    /** One look at a polling node's assignments. */
    private sealed interface Poll {
        /** The index is the poller's and its wait is not over. */
        record Unchanged() implements Poll {}

        /** The index is the poller's, its wait is over, and it asked for no answer then. */
        record Over() implements Poll {}

        /** A private-network node has machines of namespaces without a namespace index: number them, then look again. */
        record Unnumbered() implements Poll {}

        record Answer(Assignments assignments) implements Poll {}
    }

    /**
     * The assignments of node {@code nodeId} at assignment index {@code assignIndex}, from {@code kept} (its machines
     * kept at that index, if any) and read in {@code tx}; when {@code mayNumber}, {@link Poll.Unnumbered} instead if
     * namespaces of its machines have no index yet (once numbered, those left without one, every index being taken,
     * are answered without).
     */
    private Poll answer(Tx tx, String nodeId, long assignIndex, Optional<AssignedMachines.Held> kept,
                        boolean mayNumber) throws SQLException {
        AssignedMachines.Held held = kept.orElse(null);
        List<StreamRequest> pending = held != null && held.streamless() ? List.of() : streams.pendingOn(tx, nodeId);
        boolean volumesHere = (held == null || !held.volumeless()) && tx.volumes().concern(nodeId);
        if (held == null) {
            var live = tx.machines().on(nodeId).stream().filter(m -> !m.deleted()).toList();
            held = new AssignedMachines.Held(assignIndex, live,
                    tx.machines().forkSources(live.stream().map(MachineRow::id).toList()), pending.isEmpty(),
                    !volumesHere);
            assigned.remember(nodeId, held);
        } else if ((!held.streamless() && pending.isEmpty()) || (!held.volumeless() && !volumesHere)) {
            // The requests pending at this index were answered or expired since, or the moves to the node ended: none
            // is any more.
            held = new AssignedMachines.Held(held.index(), held.machines(), held.forks(), pending.isEmpty(),
                    !volumesHere);
            assigned.remember(nodeId, held);
        }
        var machines = held.machines();
        var forks = held.forks();
        var volumes = !volumesHere ? List.<NodeVolume>of() : tx.volumes().onNode(nodeId).stream()
                .map(v -> new NodeVolume(v.id(), v.namespace(), v.name(), v.sizeGb(), v.source(), v.snapshots()))
                .toList();
        var incoming = volumesHere ? tx.volumes().incomingTo(nodeId) : List.<VolumeMoveOrder>of();
        var snapshots = volumesHere ? tx.volumes().snapshotsKeptOn(nodeId) : List.<String>of();
        var copies = volumesHere ? tx.volumes().copiesTo(nodeId) : List.<SnapshotCopyOrder>of();
        if (member(tx, nodeId).isEmpty()) {
            var assigned = new ArrayList<Assignment>();
            for (MachineRow m : machines) assigned.add(assignment(tx, m, null, forks.get(m.id())));
            return new Poll.Answer(new Assignments(assignIndex, assigned, pending,
                    List.of(), List.of(), volumes, incoming, snapshots, copies));
        }
        var namespaces = tx.privateNetwork().namespacesOn(nodeId);
        Map<String, Integer> indexes = tx.privateNetwork().namespaceIndexes(namespaces);
        if (mayNumber && !indexes.keySet().containsAll(namespaces)) return new Poll.Unnumbered();
        var peers = MeshPeers.ofNode(plan, nodeId, tx.privateNetwork().members(), tx.gatewayPeers().all(),
                clock.instant());
        var assigned = new ArrayList<Assignment>();
        for (MachineRow m : machines) {
            assigned.add(assignment(tx, m, indexes.get(m.namespace()), forks.get(m.id())));
        }
        return new Poll.Answer(new Assignments(assignIndex, assigned, pending, peers,
                tx.privateNetwork().dns(namespaces), volumes, incoming, snapshots, copies));
    }

    /**
     * Gives the namespaces of a private-network node's machines that have none an index (the lowest free ones),
     * fixed for the namespace's life. A namespace left without one when every index is taken gets none: its machines'
     * creation is refused by the node, which reports why.
     */
    private void numberNamespaces(String nodeId) {
        String action = "number the namespaces of node " + nodeId;
        store.write(action, tx -> {
            var namespaces = tx.privateNetwork().namespacesOn(nodeId);
            var numbered = tx.privateNetwork().namespaceIndexes(namespaces).keySet();
            if (numbered.containsAll(namespaces)) return null;
            AddressPlan.check(tx, plan, action);
            var taken = new ArrayList<>(tx.privateNetwork().takenNamespaceIndexes());
            for (String namespace : namespaces) {
                if (numbered.contains(namespace)) continue;
                var index = PrivateAddressing.lowestFree(taken, plan.namespaces());
                if (index.isEmpty()) {
                    log.warn("{}: no free namespace index for {} ({} taken)", action, namespace, plan.namespaces());
                    continue;
                }
                tx.privateNetwork().numberNamespace(namespace, index.getAsInt());
                taken.add(index.getAsInt());
                log.info("namespace {} private_index={}", namespace, index.getAsInt());
            }
            return null;
        });
    }

    /**
     * Node {@code nodeId}'s part in the private network, read in {@code tx} after its row (so the node exists): empty,
     * without a read, for a node found outside it before.
     */
    private Optional<PrivateNetworkStore.Member> member(Tx tx, String nodeId) throws SQLException {
        if (outsidePrivateNetwork.contains(nodeId)) return Optional.empty();
        var member = tx.privateNetwork().member(nodeId);
        if (member.isEmpty()) outsidePrivateNetwork.add(nodeId);
        return member;
    }

    /** Records a heartbeat: the node is ready again if it was down; observed machine states are stored. */
    public HeartbeatResponse heartbeat(String nodeId, Heartbeat heartbeat) {
        String action = "heartbeat of node " + nodeId;
        // A ready node's report is recorded with the others of its tick (ReadyReports); what its private-network
        // peers must learn is written after it in one transaction, so that they are told once it stands (a failure
        // before the commit leaves it to the node's next report). A down node (or none) comes back in one transaction.
        var ready = reports.record(nodeId, heartbeat);
        Beat result;
        if (ready.isPresent()) {
            var recorded = ready.get();
            result = beat(recorded.beat().beat(), recorded.beat().member(), recorded.observed(), recorded.link(),
                    false);
            if (recorded.own()) {
                store.report(action, tx -> {
                    write(tx, recorded.observed(), recorded.link(), recorded.at());
                    return null;
                });
            }
        } else {
            Instant now = clock.instant();
            result = store.report(action, tx -> {
                NodeRow node = tx.nodes().get(nodeId)
                        .orElseThrow(() -> ApiException.notFound(action + ": no such node"));
                var member = tx.privateNetwork().member(nodeId);
                var observed = MachineStore.compare(nodeId, tx.machines().seenOn(nodeId), heartbeat.machines());
                NodeLink link = ReadyReports.linkChange(member, heartbeat.privateNetwork());
                tx.nodes().heartbeat(nodeId, heartbeat.capacity(), heartbeat.drivers(), now);
                write(tx, observed, link, now);
                if (node.down()) log.info("node back id={}", nodeId);
                return beat(new NodeStore.Beat(node.assignIndex(), node.adminState()), member, observed, link,
                        node.down());
            });
        }
        if (result.peersChanged() || !result.namespacesChanged().isEmpty()) {
            follow(nodeId, result.peersChanged(), result.namespacesChanged());
        } else if (result.changed()) {
            changes.signal();
        }
        List<String> destroyed = heartbeat.machines().stream().filter(r -> r.state() == MachineState.DESTROYED)
                .map(MachineReport::id).toList();
        if (!destroyed.isEmpty()) deleteDestroyed(nodeId, destroyed);
        return result.response();
    }

    /** Writes what a report changed: its machines' observed states and, when not null, the node's new link. */
    private static void write(Tx tx, MachineStore.Observation observed, NodeLink link, Instant now)
            throws SQLException {
        tx.machines().observe(List.of(observed), now);
        if (link != null) tx.privateNetwork().link(observed.nodeId(), link);
    }

    /**
     * A recorded report's outcome: what the heartbeat read of the node ({@code before}), and for a member of the
     * private network what its peers must learn: its new key or endpoint ({@code link}), or its return from down, and
     * the namespaces whose DNS records changed.
     */
    private static Beat beat(NodeStore.Beat before, Optional<PrivateNetworkStore.Member> member,
                             MachineStore.Observation observed, NodeLink link, boolean wasDown) {
        boolean peersChanged = member.isPresent() && (wasDown || link != null
                && (!link.publicKey().equals(member.get().link().publicKey())
                        || !link.endpoint().equals(member.get().link().endpoint())));
        return new Beat(new HeartbeatResponse(before.assignIndex(), before.adminState()), !observed.changed().isEmpty(),
                peersChanged, member.isPresent() ? observed.dnsChanged() : Set.of());
    }

    /**
     * Deletes, as a delete would, the machines node {@code nodeId} reports {@code destroyed}: a machine whose config
     * says {@code auto_destroy} deletes itself on its node when its run ends, and the control plane must not want it
     * back. Only those still assigned to the node, not deleted yet, and whose config says so; the node reports them
     * until its assignments drop them, so most heartbeats find nothing to do and write nothing.
     */
    private void deleteDestroyed(String nodeId, List<String> ids) {
        String action = "delete the machines node " + nodeId + " destroyed at their run's end";
        java.util.function.Predicate<MachineRow> due = m -> nodeId.equals(m.nodeId()) && !m.deleted()
                && m.spec().autoDestroy();
        if (store.read(action, tx -> tx.machines().get(ids)).stream().noneMatch(due)) return;
        boolean deleted = store.write(action, tx -> {
            List<MachineRow> rows = tx.machines().get(ids).stream().filter(due).toList();
            for (MachineRow m : rows) {
                tx.machines().setDesired(m.id(), MachineState.DESTROYED, null, clock.instant());
                log.info("machine={} destroyed itself on node {} at its run's end (auto_destroy): deleted", m.id(),
                        nodeId);
            }
            if (!rows.isEmpty()) tx.nodes().touchAssignments(nodeId);
            return !rows.isEmpty();
        });
        if (deleted) changes.signal(List.of(nodeId));
    }

    /**
     * @param peersChanged the node's key or endpoint changed, or it came back from down: every other member's peers
     *     change
     * @param namespacesChanged namespaces whose DNS records on the node changed (a machine reached or left
     *     {@code running}, or got another address)
     */
    private record Beat(HeartbeatResponse response, boolean changed, boolean peersChanged,
                        Set<String> namespacesChanged) {}

    /**
     * Bumps the assignment indexes of the nodes that must learn what a heartbeat changed (their peers, their DNS
     * records), so their long polls answer at once.
     */
    private void follow(String nodeId, boolean peersChanged, Set<String> namespacesChanged) {
        var touched = store.write("follow the private network changes of node " + nodeId, tx -> {
            var nodes = new HashSet<>(tx.privateNetwork().nodesHosting(namespacesChanged));
            if (peersChanged) {
                tx.privateNetwork().members().forEach(m -> nodes.add(m.nodeId()));
                nodes.remove(nodeId);
            }
            tx.nodes().touchAssignments(nodes);
            return nodes;
        });
        changes.signal(touched);
    }

    /** One page of the nodes, by id. */
    public List<NodeInfo> nodes(Page page) {
        return store.read("list nodes", tx -> {
            var allocations = tx.allocations().all();
            var links = new java.util.HashMap<String, NodeLink>();
            tx.privateNetwork().members().forEach(m -> links.put(m.nodeId(), m.link()));
            return tx.nodes().list(page).stream().map(n -> info(n, allocations.get(n.id()), links.get(n.id()))).toList();
        });
    }

    public NodeInfo node(String id) {
        String action = "get node " + id;
        return store.read(action, tx -> info(find(tx, id, action), tx.allocations().of(List.of(id)).get(id),
                tx.privateNetwork().member(id).map(PrivateNetworkStore.Member::link).orElse(null)));
    }

    /** Cordons ({@code cordoned}), drains ({@code draining}) or uncordons ({@code ready}) a node. */
    public NodeInfo setAdminState(String id, NodeState adminState) {
        String action = switch (adminState) {
            case CORDONED -> "cordon node " + id;
            case DRAINING -> "drain node " + id;
            case READY -> "uncordon node " + id;
            case DOWN -> throw new IllegalArgumentException("set node " + id + " down: only heartbeats say so");
        };
        store.write(action, tx -> {
            find(tx, id, action);
            tx.nodes().setAdminState(id, adminState);
            return null;
        });
        log.info("{}", action);
        changes.signal();
        return node(id);
    }

    /**
     * Removes a node from the cluster for good: its credential stops working (its agent's next call is refused), its
     * private-network peers drop it at their next poll, and its index and name are free. The rows of machines deleted
     * on it that it never confirmed go too, and the records of the snapshot copies it held.
     *
     * @throws ApiException {@code not_found}; {@code conflict} when it is ready and neither cordoned nor draining (it
     *     might take new machines meanwhile), or still holds machines or volumes (drain it and move its volumes first)
     */
    public void remove(String id) {
        String action = "remove node " + id;
        List<String> peers = store.write(action, tx -> {
            NodeRow node = find(tx, id, action);
            if (!node.down() && node.adminState() == NodeState.READY) {
                throw ApiException.conflict(action + ": it is ready: cordon or drain it first, or wait until it is down");
            }
            long machines = tx.machines().on(id).stream().filter(m -> !m.deleted()).count();
            int volumes = tx.volumes().onNode(id).size();
            if (machines > 0 || volumes > 0) {
                throw ApiException.conflict(action + ": it still holds " + machines + " machine(s) and " + volumes
                        + " volume(s): drain it and move its volumes first");
            }
            var others = tx.privateNetwork().member(id).isEmpty() ? List.<String>of()
                    : tx.privateNetwork().members().stream().map(PrivateNetworkStore.Member::nodeId)
                            .filter(n -> !n.equals(id)).toList();
            tx.machines().purgeDeletedOn(id);
            tx.volumes().dropCopiesOn(id);
            tx.nodes().delete(id);
            tx.nodes().touchAssignments(others);
            return others;
        });
        tokens.invalidate(); // its credential went with its row
        assigned.forget(id);
        outsidePrivateNetwork.remove(id);
        log.info("{}: removed; {} private-network peers told", action, peers.size());
        changes.signal(peers);
    }

    private static NodeRow find(Tx tx, String id, String action) throws SQLException {
        return tx.nodes().get(id).orElseThrow(() -> ApiException.notFound(action + ": no such node"));
    }

    private static NodeInfo info(NodeRow n, AllocationStore.Allocation allocation, NodeLink link) {
        var allocated = allocation == null ? new Capacity(0, 0) : new Capacity(allocation.cpus(), allocation.memoryMb());
        return new NodeInfo(n.id(), n.name(), n.state(), n.labels(), n.drivers(), n.capacity(), allocated,
                allocation == null ? 0 : allocation.machines(), n.heartbeatAt(), n.joinedAt(), link);
    }

    /**
     * The machine as its node gets it, with the values of its secrets opened for this answer; {@code forkOf} the
     * source of a fork's clone, null for other machines.
     */
    private Assignment assignment(Tx tx, MachineRow m, Integer namespaceIndex, String forkOf) throws SQLException {
        var names = m.spec().secrets().stream().map(MachineSpec.Secret::name).toList();
        return new Assignment(m.id(), m.namespace(), m.name(), m.generation(), m.desiredState(), m.spec(), m.stop(),
                namespaceIndex, secrets.open(tx, m.namespace(), names), m.fleet(), forkOf);
    }

    private static int seconds(Duration d) {
        return (int) Math.max(1, d.toSeconds());
    }

    /** Stops recording held polls' ends; polls ending later fail. */
    @Override
    public void close() {
        heldBeats.close();
        reports.close();
    }
}
