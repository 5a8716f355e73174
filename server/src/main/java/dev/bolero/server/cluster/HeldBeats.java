package dev.bolero.server.cluster;

import dev.bolero.server.store.ServerStore;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * The ends of held polls, recorded as their nodes' heartbeats ({@code docs/cluster-protocol.md} §2) a tick at a time:
 * the polls whose waits ended within {@value #TICK_MS} ms of the first wait for one statement in one {@link
 * ServerStore#report} transaction, instead of a transaction each (1,000 idle nodes end about 125 polls a second). Each
 * poll's held milliseconds are measured when its batch is written, before the time recorded is taken, so a node never
 * counts its report as accepted later than the server's record of it ({@link TickBatches}). Thread-safe.
 */
final class HeldBeats implements AutoCloseable {
    /** How long the first ended poll of a batch waits for others to join it. */
    static final long TICK_MS = 50;
    /** At most this many polls in one statement. */
    private static final int BATCH = 500;

    private final ServerStore store;
    private final Clock clock;
    private final TickBatches<Ended, OptionalLong> batches;

    /** A poll of node {@code nodeId} received at {@code received} ({@link System#nanoTime}) whose wait ended. */
    private record Ended(String nodeId, long received) {}

    HeldBeats(ServerStore store, Clock clock) {
        this.store = store;
        this.clock = clock;
        this.batches = new TickBatches<>("held-beats", Duration.ofMillis(TICK_MS), BATCH, this::write);
    }

    /**
     * Records the heartbeat of node {@code nodeId} whose poll, received at {@code received} ({@link System#nanoTime}),
     * was held until now, with the other polls ending in the same tick, and waits for that write: the milliseconds
     * between taking the poll and the record; empty when the node is not {@code ready} (marked down meanwhile, only a
     * report brings it back).
     *
     * @throws dev.bolero.server.store.StoreException when the batch's transaction failed
     * @throws IllegalStateException when closed or interrupted
     */
    OptionalLong record(String nodeId, long received) {
        return batches.submit("record the held poll of node " + nodeId, new Ended(nodeId, received));
    }

    /** Writes {@code batch} in one statement: each poll's outcome. */
    private List<OptionalLong> write(List<Ended> batch) {
        // Measured before the time recorded is taken: no node counts past the record.
        long nanos = System.nanoTime();
        Instant now = clock.instant();
        var ids = new LinkedHashSet<String>();
        for (Ended e : batch) ids.add(e.nodeId());
        Set<String> recorded = store.reportByStatement("record the held polls of " + ids.size()
                + " nodes as heartbeats", tx -> tx.nodes().heldPollBeats(ids, now));
        var held = new ArrayList<OptionalLong>(batch.size());
        for (Ended e : batch) {
            held.add(recorded.contains(e.nodeId())
                    ? OptionalLong.of(TimeUnit.NANOSECONDS.toMillis(nanos - e.received())) : OptionalLong.empty());
        }
        return held;
    }

    /** Stops the worker; polls still queued fail. */
    @Override
    public void close() {
        batches.close();
    }
}
