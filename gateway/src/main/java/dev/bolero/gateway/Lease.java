package dev.bolero.gateway;

import java.util.concurrent.atomic.AtomicBoolean;

/** One request's hold on one machine, released exactly once with the attempt's outcome. */
final class Lease {
    final Backend backend;
    private final BackendLoad load;
    private final Balancer balancer;
    private final AtomicBoolean released = new AtomicBoolean();

    Lease(Backend backend, BackendLoad load, Balancer balancer) {
        this.backend = backend;
        this.load = load;
        this.balancer = balancer;
    }

    /**
     * Gives the machine back; later calls do nothing.
     *
     * @param transportFailure whether the machine could not be reached or dropped the exchange (counts towards ejection)
     */
    void release(boolean transportFailure) {
        if (released.compareAndSet(false, true)) {
            balancer.release(load, transportFailure);
        }
    }
}
