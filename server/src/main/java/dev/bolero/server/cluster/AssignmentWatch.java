package dev.bolero.server.cluster;

import dev.bolero.server.store.ServerStore;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Wakes this replica's assignment long polls when another replica sharing the PostgreSQL store changed a node's
 * assignments: one thread reads every node's assignment index every {@link #RECHECK} and wakes the polls of the nodes
 * whose index moved, or that it had not seen yet ({@link Changes#signalMoved}). Changes made by this replica wake their
 * polls at once ({@link Changes#signal(java.util.Collection)}); those signalled with the index they stamped ({@link
 * Changes#signal(java.util.Collection, long)}: placements) are not woken again when the watch reads that index, which
 * saved a look at the store per placed machine. One read a second for the whole cluster replaces a re-read by every
 * waiting poll (a thousand nodes polling made a thousand reads a second).
 *
 * <p>No change is missed: a poll takes its node's {@link Changes#nodeVersion} before it reads its index, and this watch
 * signals a change after the read that saw it, so either the poll's read sees the change or the signal comes after
 * the version it waits on.
 */
final class AssignmentWatch implements AutoCloseable {
    /** How long a change made through another replica may take to wake this replica's polls. */
    static final Duration RECHECK = Duration.ofSeconds(1);
    private static final Logger log = LoggerFactory.getLogger(AssignmentWatch.class);

    private final ServerStore store;
    private final Changes changes;
    private final Thread thread;
    private volatile boolean closed;

    private AssignmentWatch(ServerStore store, Changes changes) {
        this.store = store;
        this.changes = changes;
        this.thread = Thread.ofVirtual().name("assignment-watch").unstarted(this::run);
    }

    /** Starts watching {@code store}'s assignment indexes, signalling {@code changes}. */
    static AssignmentWatch start(ServerStore store, Changes changes) {
        var watch = new AssignmentWatch(store, changes);
        watch.thread.start();
        return watch;
    }

    private void run() {
        Map<String, Long> known = new HashMap<>();
        while (!closed) {
            try {
                Map<String, Long> latest = store.read("read the nodes' assignment indexes",
                        tx -> tx.nodes().assignIndexes());
                var moved = new HashMap<String, Long>();
                for (var node : latest.entrySet()) {
                    if (!node.getValue().equals(known.get(node.getKey()))) moved.put(node.getKey(), node.getValue());
                }
                known = latest;
                if (!moved.isEmpty()) changes.signalMoved(moved);
            } catch (RuntimeException e) {
                log.warn("assignment watch: {}; again in {}", e.getMessage(), RECHECK);
            }
            try {
                Thread.sleep(RECHECK);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    /** Stops the watch and waits for its thread. */
    @Override
    public void close() {
        closed = true;
        Workers.stop(thread);
    }
}
