package dev.bolero.agent.cluster;

import java.time.Duration;
import java.util.Optional;
import java.util.function.LongSupplier;

/**
 * When the control plane last accepted this node's report, by heartbeat or carried by a poll, and what follows from
 * that: whether a heartbeat is due and whether the node must fence. An accepted report counts from the moment it was
 * sent, not the moment its answer came (a long poll answers up to its wait later), so this node never believes its
 * report fresher than the control plane's record of it; a poll whose {@code 204} says the server recorded the node's
 * heartbeat again when its wait ended counts that much later ({@code Bolero-Held-Ms}, never past its answer).
 *
 * <p>While a poll is held by a server that records held polls so ({@link #holding}), it stands for heartbeats: none is
 * due until its wait (plus {@link #SLACK}) is over, or no report was accepted for two heartbeat intervals less than
 * the fencing bound, whichever comes first; either leaves the usual heartbeats two intervals to land before the node
 * fences. Thread-safe.
 */
final class Liveness {
    /** How late a held poll's answer may come before heartbeats resume, and the margin its wait leaves. */
    static final Duration SLACK = Duration.ofSeconds(1);
    /** The longest wait of a poll that stands for heartbeats. */
    static final Duration MAX_HELD_WAIT = Duration.ofSeconds(10);

    private final LongSupplier nanoTime;
    private final long intervalNanos;
    private final long fenceAfterNanos;
    /** The send time of the newest accepted report; the creation time before any. */
    private long lastAccepted;
    /** Whether a poll that stands for heartbeats is held, and until when it may be ({@link #holding}). */
    private boolean holding;
    private long holdUntil;

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
     * Records that the poll whose report was sent at {@code sentAt} was answered by a {@code 204} saying the server
     * recorded the node's heartbeat {@code heldMillis} after taking that report: the report counts as accepted that
     * much later, but never later than now.
     */
    synchronized void acceptedHeld(long sentAt, long heldMillis) {
        long now = nanoTime.getAsLong();
        long held = sentAt + Math.min(Duration.ofMillis(Math.max(0, heldMillis)).toNanos(), now - sentAt);
        if (held - lastAccepted > 0) lastAccepted = held;
    }

    /**
     * How long a poll may wait to stand for heartbeats: two heartbeat intervals and twice {@link #SLACK} less than the
     * fencing bound, at most {@link #MAX_HELD_WAIT}; empty when that leaves less than a second (the node heartbeats as
     * usual then).
     */
    Optional<Duration> heldPollWait() {
        long wait = Math.min(MAX_HELD_WAIT.toNanos(), fenceAfterNanos - 2 * intervalNanos - 2 * SLACK.toNanos());
        return wait < Duration.ofSeconds(1).toNanos() ? Optional.empty()
                : Optional.of(Duration.ofSeconds(Duration.ofNanos(wait).toSeconds()));
    }

    /**
     * Records that a poll whose report was sent at {@code sentAt} is held by a server that records the node's
     * heartbeat when a held poll's wait ends, for at most {@code wait}: it stands for heartbeats until
     * {@link #released} or until its wait and {@link #SLACK} are over.
     */
    synchronized void holding(long sentAt, Duration wait) {
        holding = true;
        holdUntil = sentAt + wait.plus(SLACK).toNanos();
    }

    /** The held poll ended (answered or failed): heartbeats are due as usual again. */
    synchronized void released() {
        holding = false;
    }

    /**
     * Whether a heartbeat must be sent: no report was accepted for a heartbeat interval, and no held poll stands for
     * heartbeats now. While polls carrying the report are answered more often than that (a node given machines), or
     * are held by a server that records them, none is.
     */
    synchronized boolean heartbeatDue() {
        return untilHeartbeatDue() <= 0;
    }

    /** How long until a heartbeat is due, in nanoseconds; 0 or less when it is. */
    synchronized long untilHeartbeatDue() {
        long due = lastAccepted + intervalNanos;
        if (holding) {
            long heldDue = Math.min(holdUntil, lastAccepted + fenceAfterNanos - 2 * intervalNanos);
            if (heldDue - due > 0) due = heldDue;
        }
        return due - nanoTime.getAsLong();
    }

    /** Whether no report was accepted for longer than the fencing bound: the control plane may move the machines. */
    synchronized boolean fenceDue() {
        return nanoTime.getAsLong() - lastAccepted > fenceAfterNanos;
    }
}
