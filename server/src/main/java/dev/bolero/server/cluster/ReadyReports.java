package dev.bolero.server.cluster;

import dev.bolero.api.wire.Heartbeat;
import dev.bolero.api.wire.NodeLink;
import dev.bolero.server.store.Later;
import dev.bolero.server.store.MachineStore;
import dev.bolero.server.store.NodeStore;
import dev.bolero.server.store.PrivateNetworkStore;
import dev.bolero.server.store.ServerStore;
import dev.bolero.server.store.StoreException;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/**
 * The reports of nodes that are {@code ready} (heartbeats, and the reports their polls carry), recorded a tick at a
 * time ({@link TickBatches}): the reports handed in within {@value #TICK_MS} ms of the first waiting go together, their
 * heartbeats in one round trip to the store (each node's statement reads back what its report is compared with), then
 * the machines' states they changed in one statement batch. A thousand nodes given machines send about as many
 * reports a second: each was two round trips of its own. A report whose node's private-network link or DNS records
 * change is compared here and written by its caller, in a transaction of its own ({@link Recorded#own}). When a batch
 * fails on a value the store refuses, its reports are recorded again one at a time, so that report fails alone. The
 * heartbeats go in the order of their nodes' ids, the machines' states in the order of the machines' ids (one
 * machine's in the order reported): row locks are taken in the order other writers take them. Thread-safe.
 */
final class ReadyReports implements AutoCloseable {
    /** How long the first report of a batch waits for others to join it. */
    static final long TICK_MS = 5;
    /** At most this many reports in one batch. */
    private static final int BATCH = 200;

    private final ServerStore store;
    private final Clock clock;
    private final TickBatches<Report, Outcome> batches;

    private record Report(String nodeId, Heartbeat heartbeat) {}

    /** A report's outcome: recorded (empty: its node is not ready), or its failure when not null. */
    private record Outcome(Optional<Recorded> recorded, RuntimeException failure) {}

    /**
     * A ready node's report as recorded.
     *
     * @param beat what its heartbeat read back: the node's assignment index, administrative state, private-network
     *     part and machines as they were before the report
     * @param observed what the report changes of its machines
     * @param link the node's new private-network link; null when unchanged
     * @param own whether the caller must write {@code observed} and {@code link} itself, in one transaction: they
     *     change what the node's private-network peers learn. Otherwise they were written.
     * @param at when the heartbeat was recorded
     */
    record Recorded(NodeStore.ReadyBeat beat, MachineStore.Observation observed, NodeLink link, boolean own,
                    Instant at) {}

    ReadyReports(ServerStore store, Clock clock) {
        this.store = store;
        this.clock = clock;
        this.batches = new TickBatches<>("ready-reports", Duration.ofMillis(TICK_MS), BATCH, this::write);
    }

    /**
     * Records {@code heartbeat} of node {@code nodeId} if the node is ready, with the other reports of the same tick,
     * and waits for that: empty when no ready node has that id (it is down, or there is none), and then nothing was
     * written.
     *
     * @throws dev.bolero.server.store.StoreException when the store failed it
     * @throws IllegalStateException when closed or interrupted
     */
    Optional<Recorded> record(String nodeId, Heartbeat heartbeat) {
        Outcome outcome = batches.submit("heartbeat of node " + nodeId, new Report(nodeId, heartbeat));
        if (outcome.failure() != null) throw outcome.failure();
        return outcome.recorded();
    }

    private List<Outcome> write(List<Report> batch) {
        try {
            return writeTogether(batch).stream().map(r -> new Outcome(r, null)).toList();
        } catch (StoreException e) {
            // A value the store refuses (a data exception or a constraint) fails its own report alone; a failure of
            // the store itself fails the batch.
            if (batch.size() == 1 || !(e.getCause() instanceof SQLException cause) || cause.getSQLState() == null
                    || !(cause.getSQLState().startsWith("22") || cause.getSQLState().startsWith("23"))) {
                throw e;
            }
            var alone = new ArrayList<Outcome>(batch.size());
            for (Report report : batch) {
                try {
                    alone.add(new Outcome(writeTogether(List.of(report)).getFirst(), null));
                } catch (RuntimeException failed) {
                    alone.add(new Outcome(Optional.empty(), failed));
                }
            }
            return alone;
        }
    }

    private List<Optional<Recorded>> writeTogether(List<Report> batch) {
        Instant now = clock.instant();
        String action = batch.size() == 1 ? "heartbeat of node " + batch.getFirst().nodeId()
                : "record the reports of " + batch.size() + " nodes";
        return store.reportByStatement(action, tx -> {
            var beats = new ArrayList<Later<Optional<NodeStore.ReadyBeat>>>(Collections.nCopies(batch.size(), null));
            var byNode = new ArrayList<Integer>();
            for (int i = 0; i < batch.size(); i++) byNode.add(i);
            byNode.sort(Comparator.comparing(i -> batch.get(i).nodeId()));
            for (int i : byNode) {
                Report r = batch.get(i);
                beats.set(i, tx.nodes().heartbeatIfReady(r.nodeId(), r.heartbeat().capacity(),
                        r.heartbeat().drivers(), now));
            }
            var recorded = new ArrayList<Optional<Recorded>>(batch.size());
            var writes = new ArrayList<MachineStore.Observation>();
            for (int i = 0; i < batch.size(); i++) {
                Report r = batch.get(i);
                var beat = beats.get(i).get();
                if (beat.isEmpty()) {
                    recorded.add(Optional.empty());
                    continue;
                }
                var observed = MachineStore.compare(r.nodeId(), beat.get().machines(), r.heartbeat().machines());
                NodeLink link = linkChange(beat.get().member(), r.heartbeat().privateNetwork());
                boolean own = link != null || beat.get().member().isPresent() && !observed.dnsChanged().isEmpty();
                if (!own && observed.writes()) writes.add(observed);
                recorded.add(Optional.of(new Recorded(beat.get(), observed, link, own, now)));
            }
            tx.machines().observe(writes, now);
            return recorded;
        });
    }

    /** The link a member of the private network reports when it differs from its stored one; null otherwise. */
    static NodeLink linkChange(Optional<PrivateNetworkStore.Member> member, NodeLink reported) {
        return member.isPresent() && reported != null && !reported.equals(member.get().link()) ? reported : null;
    }

    /** Stops the worker; reports still queued fail. */
    @Override
    public void close() {
        batches.close();
    }
}
