package dev.bolero.server.cluster;

import java.time.Duration;

/** How the control plane's background threads (placement worker, loops, assignment watch) are stopped. */
final class Workers {
    /** How long {@link #stop} waits for a thread to end. */
    static final Duration STOP_WAIT = Duration.ofSeconds(10);

    private Workers() {}

    /**
     * Interrupts {@code thread} and waits up to {@link #STOP_WAIT} for it to end; the caller has already told it to
     * stop (its flag is set), and an interrupted caller keeps its interrupt.
     */
    static void stop(Thread thread) {
        thread.interrupt();
        try {
            thread.join(STOP_WAIT);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
