package dev.bolero.server.cluster;

import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Wakes this process's long polls and waits when something changed here. Changes made by other server processes are
 * seen by the waiters' periodic re-reads of the store instead (for assignment polls, by one {@link AssignmentWatch}). A node's assignment long poll waits only for changes
 * to that node ({@link #signal(Collection)}), so a write wakes one poll, not every node's.
 */
public final class Changes {
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private final Map<String, Condition> nodes = new HashMap<>();
    private final Map<String, Long> nodeVersions = new HashMap<>();
    /** Per node, its newest signal that carried the assignment index it stamped ({@link #signal(Collection, long)}). */
    private final Map<String, Stamp> stamps = new HashMap<>();

    /** A signal of a node's change stamped with assignment index {@code index}, which made its version {@code version}. */
    private record Stamp(long version, long index) {}
    private long version;

    /** Wakes every {@link #await} waiter. */
    public void signal() {
        lock.lock();
        try {
            version++;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** Wakes every {@link #await} waiter and the {@link #awaitNode} waiters of these nodes' assignments. */
    public void signal(Collection<String> nodeIds) {
        lock.lock();
        try {
            version++;
            changed.signalAll();
            wakeNodes(nodeIds);
        } finally {
            lock.unlock();
        }
    }

    /**
     * As {@link #signal(Collection)}, for a committed change that stamped these nodes' assignments with index {@code
     * index}: a poll woken by it may take that index without reading it ({@link #stampedIndex}), and when the {@link
     * AssignmentWatch} reads it, it does not wake their polls again.
     */
    public void signal(Collection<String> nodeIds, long index) {
        lock.lock();
        try {
            version++;
            changed.signalAll();
            wakeNodes(nodeIds);
            for (String id : nodeIds) stamps.put(id, new Stamp(nodeVersions.get(id), index));
        } finally {
            lock.unlock();
        }
    }

    /**
     * The assignment index node {@code nodeId}'s newest signal here carried, if it made the node's {@link
     * #nodeVersion} {@code version} (so no change was signalled after it); empty when that signal carried none. Another
     * replica may have changed the node since: a poll that answers with this index is answered again at its next look.
     */
    public java.util.OptionalLong stampedIndex(String nodeId, long version) {
        lock.lock();
        try {
            Stamp stamp = stamps.get(nodeId);
            return stamp != null && stamp.version() == version ? java.util.OptionalLong.of(stamp.index())
                    : java.util.OptionalLong.empty();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Wakes the {@link #awaitNode} waiters of each node in {@code moved} (node id to the assignment index the {@link
     * AssignmentWatch} read: another replica may have changed it) unless this process's newest stamped signal for it
     * carried that very index ({@link #signal(Collection, long)}), which woke them already: state indexes are unique to
     * their write transaction, so that index is this process's own change.
     */
    void signalMoved(Map<String, Long> moved) {
        lock.lock();
        try {
            var wake = new java.util.ArrayList<String>(moved.size());
            for (var node : moved.entrySet()) {
                Stamp stamp = stamps.get(node.getKey());
                if (stamp == null || stamp.index() != node.getValue()) wake.add(node.getKey());
            }
            wakeNodes(wake);
        } finally {
            lock.unlock();
        }
    }

    /** Counts a change of each of these nodes' assignments and wakes their waiters; called holding the lock. */
    private void wakeNodes(Collection<String> nodeIds) {
        for (String id : nodeIds) {
            nodeVersions.merge(id, 1L, Long::sum);
            Condition c = nodes.get(id);
            if (c != null) c.signalAll();
        }
    }

    /** Waits until {@link #signal()} or at most {@code max}. */
    public void await(Duration max) throws InterruptedException {
        lock.lock();
        try {
            long seen = version;
            long nanos = max.toNanos();
            while (version == seen && nanos > 0) nanos = changed.awaitNanos(nanos);
        } finally {
            lock.unlock();
        }
    }

    /** How many times {@link #signal(Collection)} has named {@code nodeId}: pass it to {@link #awaitNode}. */
    public long nodeVersion(String nodeId) {
        lock.lock();
        try {
            return nodeVersions.getOrDefault(nodeId, 0L);
        } finally {
            lock.unlock();
        }
    }

    /**
     * Waits until {@link #signal(Collection)} has named {@code nodeId} since its {@link #nodeVersion} was
     * {@code seen} (at once if it already has), or at most {@code max}.
     */
    public void awaitNode(String nodeId, long seen, Duration max) throws InterruptedException {
        lock.lock();
        try {
            Condition c = nodes.computeIfAbsent(nodeId, id -> lock.newCondition());
            long nanos = max.toNanos();
            while (nodeVersions.getOrDefault(nodeId, 0L) == seen && nanos > 0) nanos = c.awaitNanos(nanos);
        } finally {
            lock.unlock();
        }
    }
}
