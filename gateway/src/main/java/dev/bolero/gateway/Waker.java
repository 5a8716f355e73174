package dev.bolero.gateway;

/**
 * Starts machines on request. The gateway calls it from request threads: it must return at once (start the machine
 * asynchronously), and it may be called many times for the same fleet while a machine boots, so it coalesces. The
 * machine it starts reaches requests when the {@link RouteTable} lists it as healthy.
 */
@FunctionalInterface
public interface Waker {
    /** Why the gateway asks for a machine. */
    enum Reason {
        /** A request arrived for a fleet with {@code auto_start} and no healthy machine; it is waiting. */
        NO_HEALTHY_MACHINE,
        /** Every healthy machine of a fleet with {@code auto_start} is at or over its soft limit. */
        OVER_SOFT_LIMIT
    }

    /** Asks for one more running machine of {@code fleet}. */
    void wake(FleetKey fleet, Reason reason);

    /** A waker for gateways without a control plane: it starts nothing, so waiting requests time out. */
    Waker NONE = (fleet, reason) -> {};
}
