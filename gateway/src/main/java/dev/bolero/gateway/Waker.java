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

    /**
     * Asks for one more running machine of {@code fleet}.
     *
     * @return whether a machine is on its way (being started now, or already starting); false when the fleet has none
     *     to start, so a waiting request is answered at once instead of held
     */
    boolean wake(FleetKey fleet, Reason reason);

    /** A waker for gateways without a control plane: it starts nothing, so requests that need a machine get a 503. */
    Waker NONE = (fleet, reason) -> false;
}
