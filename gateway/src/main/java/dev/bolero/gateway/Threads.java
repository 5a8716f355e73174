package dev.bolero.gateway;

/** Stopping the gateway's own background threads (route feed, idle stopper, certificate keeper). */
final class Threads {
    private Threads() {}

    /**
     * Interrupts {@code thread} and waits until it ends. An interrupt of the caller while it waits ends the wait early
     * and is kept on the caller (its interrupt flag set again).
     */
    static void stop(Thread thread) {
        thread.interrupt();
        try {
            thread.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
