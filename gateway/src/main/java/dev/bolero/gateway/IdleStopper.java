package dev.bolero.gateway;

import dev.bolero.api.wire.GatewayRoutes;
import dev.bolero.client.BoleroClient;
import dev.bolero.client.ClientException;
import dev.bolero.core.MachineSpec;
import dev.bolero.core.MachineState;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code auto_stop}: asks the control plane to stop (or, with {@code suspend}, to suspend) a fleet's machines that this
 * gateway has sent no request for {@code idle_timeout_s}, the longest idle first, down to {@code min_machines_running}.
 * A machine the control plane will not suspend (it has secrets, whose values its saved memory would hold) is stopped. It looks every
 * {@link #TICK}, so a machine stops at most one tick after its idle timeout. Each gateway judges by its own traffic:
 * with several gateways, a machine busy through another one may be stopped here (and woken there).
 */
public final class IdleStopper implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(IdleStopper.class);
    static final Duration TICK = Duration.ofSeconds(1);

    private final BoleroClient client;
    private final Supplier<GatewayRoutes> routes;
    private final Supplier<List<BackendActivity>> activity;
    /** Machines asked to stop, until the routes show them stopping. */
    private final Set<String> asked = ConcurrentHashMap.newKeySet();
    private final Thread ticker;
    private volatile boolean closed;

    private IdleStopper(BoleroClient client, Supplier<GatewayRoutes> routes, Supplier<List<BackendActivity>> activity) {
        this.client = client;
        this.routes = routes;
        this.activity = activity;
        this.ticker = Thread.ofVirtual().name("idle-stopper").unstarted(this::run);
    }

    /** Starts judging the machines of {@code feed}'s routes by {@code gateway}'s traffic. */
    public static IdleStopper start(BoleroClient client, RouteFeed feed, Gateway gateway) {
        Objects.requireNonNull(feed, "feed");
        Objects.requireNonNull(gateway, "gateway");
        var stopper = new IdleStopper(Objects.requireNonNull(client, "client"), feed::latest, gateway::activity);
        stopper.ticker.start();
        return stopper;
    }

    @Override
    public void close() {
        closed = true;
        Threads.stop(ticker);
    }

    private void run() {
        while (!closed) {
            try {
                Thread.sleep(TICK);
            } catch (InterruptedException e) {
                return;
            }
            GatewayRoutes current = routes.get();
            Map<String, BackendActivity> traffic = activity.get().stream()
                    .collect(Collectors.toMap(BackendActivity::machineId, Function.identity(), (a, b) -> a));
            for (GatewayRoutes.FleetRoute fleet : current.fleets()) {
                for (GatewayRoutes.RouteMachine idle : idle(fleet, traffic)) stop(fleet, idle);
            }
            asked.retainAll(current.fleets().stream().flatMap(f -> f.machines().stream())
                    .filter(m -> m.desiredState() == MachineState.RUNNING).map(GatewayRoutes.RouteMachine::id)
                    .collect(Collectors.toSet()));
        }
    }

    /**
     * The machines of {@code fleet} to stop now: running ones without a request in flight, idle at least the
     * timeout, the longest idle first, leaving {@code min_machines_running} running.
     */
    static List<GatewayRoutes.RouteMachine> idle(GatewayRoutes.FleetRoute fleet, Map<String, BackendActivity> traffic) {
        MachineSpec.HttpService service = fleet.httpService();
        if (!service.stopsIdle()) return List.of();
        var running = fleet.machines().stream()
                .filter(GatewayRoutes.RouteMachine::serving).toList();
        int min = service.minMachinesRunning() == null ? 0 : service.minMachinesRunning();
        Duration timeout = Duration.ofSeconds(service.idleTimeout());
        return running.stream()
                .filter(m -> traffic.containsKey(m.id()))
                .filter(m -> traffic.get(m.id()).outstanding() == 0 && traffic.get(m.id()).idle().compareTo(timeout) >= 0)
                .sorted(Comparator.comparing((GatewayRoutes.RouteMachine m) -> traffic.get(m.id()).idle()).reversed())
                .limit(Math.max(0, running.size() - min))
                .toList();
    }

    private void stop(GatewayRoutes.FleetRoute fleet, GatewayRoutes.RouteMachine machine) {
        if (!asked.add(machine.id())) return;
        try {
            String done = "stopped";
            if (fleet.httpService().autoStop() == MachineSpec.HttpService.AutoStop.SUSPEND) {
                try {
                    client.suspend(fleet.namespace(), machine.id());
                    done = "suspended";
                } catch (ClientException refused) {
                    if (!"failed_precondition".equals(refused.code())) throw refused;
                    log.warn("auto_stop: machine {} of fleet {}/{} cannot be suspended ({}): stopping it",
                            machine.id(), fleet.namespace(), fleet.fleet(), refused.getMessage());
                    client.stop(fleet.namespace(), machine.id(), null);
                }
            } else {
                client.stop(fleet.namespace(), machine.id(), null);
            }
            log.info("auto_stop: {} machine {} of fleet {}/{}, idle {} s or more", done, machine.id(),
                    fleet.namespace(), fleet.fleet(), fleet.httpService().idleTimeout());
        } catch (ClientException e) {
            log.warn("auto_stop: stop machine {} of fleet {}/{}: {}", machine.id(), fleet.namespace(), fleet.fleet(),
                    e.getMessage());
            asked.remove(machine.id());
        }
    }
}
