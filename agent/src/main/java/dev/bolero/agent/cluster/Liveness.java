package dev.bolero.agent.cluster;

import java.time.Duration;
import java.util.function.LongSupplier;

/**
 * When the control plane last accepted this node's report, by heartbeat or carried by a poll, and what follows from
 * that: whether a heartbeat is due and whether the node must fence. An accepted report counts from the moment it was
 * sent, not the moment its answer came (a long poll answers up to its wait later), so this node never believes its
 * report fresher than the control plane's record of it. Thread-safe.
 */
final class Liveness {
    private final LongSupplier nanoTime;
    private final long intervalNanos;
    private final long fenceAfterNanos;
    /** The send time of the newest accepted report; the creation time before any. */
    private long lastAccepted;

    /**
     * @param nanoTime the clock ({@link System#nanoTime} but in tests)
     * @param interval the heartbeat interval: a heartbeat is due once no report was accepted for this long
     * @param fenceAfter the node fences once no report was accepted for longer than this
     */
    Liveness(LongSupplier nanoTime, Duration interval, Duration fenceAfter) {
        this.nanoTime = nanoTime;
        this.intervalNanos = interval.toNanos();
        this.fenceAfterNanos = fenceAfter.toNanos();
        this.lastAccepted = nanoTime.getAsLong();
    }

    /** The time to pass to {@link #accepted} once the report about to be sent is accepted. */
    long sending() {
        return nanoTime.getAsLong();
    }

    /** Records that the report sent at {@code sentAt} ({@link #sending}) was accepted. */
    synchronized void accepted(long sentAt) {
        if (sentAt - lastAccepted > 0) lastAccepted = sentAt;
    }

    /**
     * Whether a heartbeat must be sent: no report was accepted for a heartbeat interval. While polls carrying the
     * report are answered more often than that (a node given machines), none is.
     */
    synchronized boolean heartbeatDue() {
        return nanoTime.getAsLong() - lastAccepted >= intervalNanos;
    }

    /** How long until a heartbeat is due, in nanoseconds; 0 or less when it is. */
    synchronized long untilHeartbeatDue() {
        return lastAccepted + intervalNanos - nanoTime.getAsLong();
    }

    /** Whether no report was accepted for longer than the fencing bound: the control plane may move the machines. */
    synchronized boolean fenceDue() {
        return nanoTime.getAsLong() - lastAccepted > fenceAfterNanos;
    }
}
