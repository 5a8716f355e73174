package dev.bolero.agent.machine;

import java.time.Duration;
import java.time.Instant;
import java.util.Objects;

/**
 * Where the machine runners get the time and their timers (boot deadline, stop timeout, restart backoff, the wait for
 * a VMM to exit), so that tests can move time by hand. Thread-safe.
 */
public interface Clock {

    /** The current instant. */
    Instant instant();

    /**
     * Runs {@code task} once after {@code delay}, on a thread of the clock's choosing, unless the returned timer is
     * cancelled first. {@code task} must not block: a runner's timer only posts a command to its mailbox.
     */
    Timer schedule(Duration delay, Runnable task);

    /** A scheduled task. */
    interface Timer {
        /** Keeps the task from running if it has not started yet. Idempotent. */
        void cancel();
    }

    /** The wall clock of {@code time}; each timer waits on a virtual thread of its own. */
    static Clock system(java.time.Clock time) {
        Objects.requireNonNull(time, "time");
        return new Clock() {
            @Override
            public Instant instant() {
                return time.instant();
            }

            @Override
            public Timer schedule(Duration delay, Runnable task) {
                Thread t = Thread.ofVirtual().name("timer").start(() -> {
                    try {
                        Thread.sleep(delay);
                    } catch (InterruptedException e) {
                        return;
                    }
                    task.run();
                });
                return t::interrupt;
            }
        };
    }
}
