package dev.bolero.gateway;

import dev.bolero.api.wire.GatewayRoutes;
import dev.bolero.client.BoleroClient;
import dev.bolero.client.ClientException;
import dev.bolero.core.MachineSpec;
import dev.bolero.core.ValidationException;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Follows the control plane's routes ({@code GET /v1/gateway/routes}) into a {@link RouteTable}: one long poll at a
 * time with the version it holds, so a change reaches the table as soon as the server answers. While the server
 * cannot be reached the table keeps its last routes and the feed retries, backing off up to {@link #MAX_BACKOFF}.
 */
public final class RouteFeed implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(RouteFeed.class);
    static final Duration MIN_BACKOFF = Duration.ofMillis(100);
    static final Duration MAX_BACKOFF = Duration.ofSeconds(5);

    private final BoleroClient client;
    private final String domain;
    private final RouteTable table;
    private final Duration wait;
    private final Thread poller;
    private volatile GatewayRoutes latest;
    private volatile boolean closed;

    private RouteFeed(BoleroClient client, String domain, RouteTable table, Duration wait) {
        this.client = client;
        this.domain = domain;
        this.table = table;
        this.wait = wait;
        this.latest = new GatewayRoutes("", List.of());
        this.poller = Thread.ofVirtual().name("route-feed").unstarted(this::follow);
    }

    /**
     * Starts following the server that {@code client} talks to (with an admin token), replacing {@code table}'s
     * routes under {@code domain} at each new version.
     *
     * @param wait how long one long poll waits on the server for a change
     */
    public static RouteFeed start(BoleroClient client, String domain, RouteTable table, Duration wait) {
        var feed = new RouteFeed(Objects.requireNonNull(client, "client"), Objects.requireNonNull(domain, "domain"),
                Objects.requireNonNull(table, "table"), Objects.requireNonNull(wait, "wait"));
        feed.poller.start();
        return feed;
    }

    /** The last routes the server sent, with each fleet's stopped machines too (empty before the first answer). */
    public GatewayRoutes latest() {
        return latest;
    }

    @Override
    public void close() {
        closed = true;
        Threads.stop(poller);
    }

    private void follow() {
        Optional<String> held = Optional.empty();
        Duration backoff = MIN_BACKOFF;
        boolean failing = false;
        while (!closed) {
            try {
                GatewayRoutes routes = client.gatewayRoutes(held, wait);
                if (failing) log.info("routes: the server answers again; version={}", routes.version());
                failing = false;
                backoff = MIN_BACKOFF;
                if (held.isEmpty() || !held.get().equals(routes.version())) {
                    // The waker reads latest when a request finds its route in the table: latest goes first.
                    latest = routes;
                    table.replace(routes(domain, routes));
                    held = Optional.of(routes.version());
                }
            } catch (ClientException e) {
                if (closed) return;
                if (!failing) log.warn("routes: {}; serving the last routes and retrying", e.getMessage());
                failing = true;
                try {
                    Thread.sleep(backoff);
                } catch (InterruptedException interrupted) {
                    return;
                }
                backoff = backoff.multipliedBy(2).compareTo(MAX_BACKOFF) > 0 ? MAX_BACKOFF : backoff.multipliedBy(2);
            }
        }
    }

    /**
     * The gateway's view of the server's routes: each fleet's running machines with an address, on its
     * {@code internal_port}, and its custom host names. A fleet whose names are not DNS labels is left out (it could not
     * be addressed), as is a custom host name under {@code domain} (it would shadow a fleet's own name).
     */
    static Routes routes(String domain, GatewayRoutes routes) {
        var builder = Routes.builder(domain);
        for (GatewayRoutes.FleetRoute fleet : routes.fleets()) {
            FleetKey key;
            try {
                key = new FleetKey(fleet.namespace(), fleet.fleet());
                MachineSpec.HttpService service = fleet.httpService();
                var route = Route.builder(key)
                        .autoStart(Boolean.TRUE.equals(service.autoStart()))
                        .forceHttps(Boolean.TRUE.equals(service.forceHttps()));
                if (service.concurrency() != null) {
                    route.concurrency(new Concurrency(service.concurrency().softLimit(),
                            service.concurrency().hardLimit()));
                }
                for (GatewayRoutes.RouteMachine machine : fleet.machines()) {
                    if (machine.serving()) {
                        route.backend(new Backend(machine.id(), machine.address(), service.internalPort(), true));
                    }
                }
                builder.route(route.build());
            } catch (ValidationException e) {
                log.warn("routes: fleet {}/{} left out: {}", fleet.namespace(), fleet.fleet(), e.getMessage());
                continue;
            }
            for (GatewayRoutes.CustomHostname host : fleet.hostnames()) {
                try {
                    builder.hostname(host.name(), key, Optional.ofNullable(host.certificate()));
                } catch (ValidationException e) {
                    log.warn("routes: hostname {} of fleet {} left out: {}", host.name(), key, e.getMessage());
                }
            }
        }
        return builder.build();
    }
}
