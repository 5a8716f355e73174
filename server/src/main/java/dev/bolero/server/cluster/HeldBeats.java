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
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * The ends of held polls, recorded as their nodes' heartbeats ({@code docs/cluster-protocol.md} §2) a tick at a time:
 * the polls whose waits ended within {@value #TICK_MS} ms of the first wait for one statement in one {@link
 * ServerStore#report} transaction, instead of a transaction each (1,000 idle nodes end about 125 polls a second). Each
 * poll's held milliseconds are measured when its batch is written, before the time recorded is taken, so a node never
 * counts its report as accepted later than the server's record of it. One worker thread; thread-safe.
 */
final class HeldBeats implements AutoCloseable {
    /** How long the first ended poll of a batch waits for others to join it. */
    static final long TICK_MS = 50;
    /** At most this many polls in one statement. */
    private static final int BATCH = 500;

    private final ServerStore store;
    private final Clock clock;
    private final LinkedBlockingQueue<Ended> queue = new LinkedBlockingQueue<>();
    private final Thread worker;
    private volatile boolean closed;

    /** A poll of node {@code nodeId} received at {@code received} ({@link System#nanoTime}) whose wait ended. */
    private record Ended(String nodeId, long received, CompletableFuture<OptionalLong> held) {}

    HeldBeats(ServerStore store, Clock clock) {
        this.store = store;
        this.clock = clock;
        this.worker = Thread.ofVirtual().name("held-beats").start(this::work);
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
        var ended = new Ended(nodeId, received, new CompletableFuture<>());
        queue.add(ended);
        if (closed) fail(List.of()); // closed meanwhile: the worker may be gone
        try {
            return ended.held().get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("record the held poll of node " + nodeId + ": interrupted", e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException r) throw r;
            throw new IllegalStateException("record the held poll of node " + nodeId + ": " + e.getCause(), e);
        }
    }

    private void work() {
        var batch = new ArrayList<Ended>(BATCH);
        while (!closed) {
            try {
                batch.add(queue.take());
                Thread.sleep(Duration.ofMillis(TICK_MS));
            } catch (InterruptedException e) {
                break;
            }
            queue.drainTo(batch, BATCH - batch.size());
            write(batch);
            batch.clear();
        }
        fail(batch);
    }

    /** Writes {@code batch} in one statement and answers each poll. */
    private void write(List<Ended> batch) {
        try {
            // Measured before the time recorded is taken: no node counts past the record.
            long nanos = System.nanoTime();
            Instant now = clock.instant();
            var ids = new LinkedHashSet<String>();
            for (Ended e : batch) ids.add(e.nodeId());
            Set<String> recorded = store.reportByStatement("record the held polls of " + ids.size()
                    + " nodes as heartbeats", tx -> tx.nodes().heldPollBeats(ids, now));
            for (Ended e : batch) {
                e.held().complete(recorded.contains(e.nodeId())
                        ? OptionalLong.of(TimeUnit.NANOSECONDS.toMillis(nanos - e.received())) : OptionalLong.empty());
            }
        } catch (RuntimeException e) {
            batch.forEach(b -> b.held().completeExceptionally(e));
        }
    }

    /** Fails {@code left} and every queued poll: closed. */
    private void fail(List<Ended> left) {
        var all = new ArrayList<>(left);
        queue.drainTo(all);
        all.forEach(e -> e.held().completeExceptionally(
                new IllegalStateException("record the held poll of node " + e.nodeId() + ": closed")));
    }

    /** Stops the worker; polls still queued fail. */
    @Override
    public void close() {
        closed = true;
        Workers.stop(worker);
    }
}
