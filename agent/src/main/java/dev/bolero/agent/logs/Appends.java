package dev.bolero.agent.logs;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Tells a log's followers that lines were written, so they copy them at once instead of at their next poll. One
 * signal per file with an open writer: {@link #open} when a writer opens it, {@link #close} when it closes it (so the
 * map holds only files being written). Followers still poll, as the fallback for a file written by nobody here.
 * Thread-safe.
 */
final class Appends {
    private final Map<Path, Signal> signals = new ConcurrentHashMap<>();

    /** The signal of a file being written. */
    static final class Signal {
        private long generation;

        /** Lines were written. */
        synchronized void fire() {
            generation++;
            notifyAll();
        }

        /**
         * Waits until lines are written after {@code seen} (a value this returned before; 0 at first) or
         * {@code timeout} passes.
         *
         * @return the value to pass next time
         */
        synchronized long await(long seen, Duration timeout) throws InterruptedException {
            long deadline = System.nanoTime() + timeout.toNanos();
            while (generation == seen) {
                long left = deadline - System.nanoTime();
                if (left <= 0) break;
                TimeUnit.NANOSECONDS.timedWait(this, left);
            }
            return generation;
        }
    }

    Signal open(Path file) {
        return signals.computeIfAbsent(file, f -> new Signal());
    }

    void close(Path file) {
        Signal s = signals.remove(file);
        if (s != null) s.fire(); // the followers look again, and see the writer gone
    }

    /**
     * Waits until {@code file}'s writer writes lines after {@code seen}, or {@code timeout} (the poll) passes; sleeps
     * out the timeout when no writer has it open.
     *
     * @return the value to pass next time
     */
    long await(Path file, long seen, Duration timeout) throws InterruptedException {
        Signal s = signals.get(file);
        if (s == null) {
            Thread.sleep(timeout);
            return seen;
        }
        return s.await(seen, timeout);
    }
}
