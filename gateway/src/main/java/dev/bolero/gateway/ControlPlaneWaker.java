package dev.bolero.gateway;

import dev.bolero.api.wire.GatewayRoutes;
import dev.bolero.client.BoleroClient;
import dev.bolero.client.ClientException;
import dev.bolero.core.MachineState;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Wakes fleets through the control plane: asks it to start one of the fleet's suspended machines, which resumes it
 * in a fraction of a boot, or else one of its stopped machines ({@code POST …/machines/{id}/start}). Calls for a fleet coalesce: while a machine it started (or one the control
 * plane already wants running) has not reached the routes, for at most {@link #PATIENCE}, no other is started.
 */
public final class ControlPlaneWaker implements Waker {
    private static final Logger log = LoggerFactory.getLogger(ControlPlaneWaker.class);
    /** How long a started machine may take to reach the routes before another call may start a second one. */
    static final Duration PATIENCE = Duration.ofSeconds(30);

    private final BoleroClient client;
    private final RouteFeed feed;
    private final LongSupplier nanos;
    /** Per fleet: the machine started last, the routes' version then, and when ({@link #nanos}). */
    private final Map<FleetKey, Started> started = new ConcurrentHashMap<>();

    private record Started(String machineId, String version, long at) {}

    public ControlPlaneWaker(BoleroClient client, RouteFeed feed) {
        this(client, feed, System::nanoTime);
    }

    ControlPlaneWaker(BoleroClient client, RouteFeed feed, LongSupplier nanos) {
        this.client = Objects.requireNonNull(client, "client");
        this.feed = Objects.requireNonNull(feed, "feed");
        this.nanos = Objects.requireNonNull(nanos, "nanos");
    }

    @Override
    public boolean wake(FleetKey fleet, Reason reason) {
        GatewayRoutes routes = feed.latest();
        Optional<GatewayRoutes.FleetRoute> route = routes.fleets().stream()
                .filter(f -> f.namespace().equals(fleet.namespace()) && f.fleet().equals(fleet.fleet())).findFirst();
        if (route.isEmpty()) return false;
        var machines = route.get().machines();
        // A machine the control plane already wants running but that does not serve yet is on its way.
        boolean booting = machines.stream().anyMatch(m -> m.desiredState() == MachineState.RUNNING && !m.serving());
        if (booting && reason == Reason.NO_HEALTHY_MACHINE) return true;
        var asleep = machines.stream().filter(m -> m.desiredState() == MachineState.SUSPENDED).findFirst()
                .or(() -> machines.stream().filter(m -> m.desiredState() == MachineState.STOPPED).findFirst());
        if (asleep.isEmpty()) return booting;
        long now = nanos.getAsLong();
        Started claim = new Started(asleep.get().id(), routes.version(), now);
        Started before = started.compute(fleet, (key, last) -> last != null && pending(last, routes, machines, now)
                ? last : claim);
        if (before != claim) return true;
        Thread.ofVirtual().name("wake-" + fleet.namespace() + "-" + fleet.fleet()).start(() -> {
            try {
                client.start(fleet.namespace(), claim.machineId());
                log.info("wake: started machine {} of fleet {} ({})", claim.machineId(), fleet, reason);
            } catch (ClientException e) {
                log.warn("wake: start machine {} of fleet {}: {}", claim.machineId(), fleet, e.getMessage());
                started.remove(fleet, claim);
            }
        });
        return true;
    }

    /**
     * Whether {@code last} is still on its way, for less than {@link #PATIENCE}: the routes have not changed since it
     * was started, or they show it wanted running but not serving yet.
     */
    private static boolean pending(Started last, GatewayRoutes routes, List<GatewayRoutes.RouteMachine> machines,
                                   long now) {
        if (now - last.at() >= PATIENCE.toNanos()) return false;
        if (routes.version().equals(last.version())) return true;
        return machines.stream().anyMatch(m -> m.id().equals(last.machineId())
                && m.desiredState() == MachineState.RUNNING && !m.serving());
    }
}
