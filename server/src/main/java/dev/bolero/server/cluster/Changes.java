package dev.bolero.server.cluster;

import java.time.Duration;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Wakes this process's long polls and waits when something changed here. Changes made by other server processes are
 * seen by the waiters' periodic re-reads of the store instead.
 */
public final class Changes {
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private long version;

    /** Wakes every waiter. */
    public void signal() {
        lock.lock();
        try {
            version++;
            changed.signalAll();
        } finally {
            lock.unlock();
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
}
