package dev.bolero.server.cluster;

import dev.bolero.api.ApiJson;
import dev.bolero.api.wire.Fleet;
import dev.bolero.api.wire.GatewayRoutes;
import dev.bolero.core.MachineSpec;
import dev.bolero.server.store.HostnameStore;
import dev.bolero.server.store.MachineRow;
import dev.bolero.server.store.ServerStore;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The routes the gateways follow: every fleet with an {@code http_service}, its machines' states and private
 * addresses and its custom host names, read from the store. A gateway long-polls with the version it holds; a change made by this process
 * answers at once, one made by another replica at the next re-read ({@link #RECHECK}).
 */
public final class GatewayFeed {
    /** How often a waiting poll re-reads the store for changes made by other replicas. */
    static final Duration RECHECK = Duration.ofSeconds(1);

    private final ServerStore store;
    private final Clock clock;
    private final Changes changes;

    GatewayFeed(ServerStore store, Clock clock, Changes changes) {
        this.store = store;
        this.clock = clock;
        this.changes = changes;
    }

    /**
     * The routes of {@code namespace} (every namespace when empty), once their version differs from {@code seen} or
     * {@code wait} has passed; at once when {@code seen} is empty.
     */
    public GatewayRoutes routes(Optional<String> namespace, Optional<String> seen, Duration wait)
            throws InterruptedException {
        Instant deadline = clock.instant().plus(wait);
        while (true) {
            GatewayRoutes routes = read(namespace);
            Duration left = Duration.between(clock.instant(), deadline);
            if (seen.isEmpty() || !seen.get().equals(routes.version()) || left.isNegative() || left.isZero()) {
                return routes;
            }
            changes.await(left.compareTo(RECHECK) < 0 ? left : RECHECK);
        }
    }

    private GatewayRoutes read(Optional<String> only) {
        var fleets = new ArrayList<GatewayRoutes.FleetRoute>();
        store.read("read gateway routes", tx -> {
            List<String> namespaces = only.isPresent() ? List.of(only.get())
                    : tx.namespaces().list().stream().map(n -> n.name()).sorted().toList();
            for (String namespace : namespaces) {
                var configs = new LinkedHashMap<String, MachineSpec.HttpService>();
                for (Fleet fleet : tx.fleets().list(namespace)) {
                    if (fleet.config() != null && fleet.config().httpService() != null) {
                        configs.put(fleet.name(), fleet.config().httpService());
                    }
                }
                var machines = new LinkedHashMap<String, List<MachineRow>>();
                for (MachineRow machine : tx.machines().list(namespace, Optional.empty())) {
                    machines.computeIfAbsent(machine.fleet(), f -> new ArrayList<>()).add(machine);
                }
                var served = new TreeMap<>(configs);
                machines.forEach((fleet, rows) -> {
                    // Without a fleet config, the newest machine's says how the fleet is served.
                    MachineSpec.HttpService newest = rows.getLast().spec().httpService();
                    if (!served.containsKey(fleet) && newest != null) served.put(fleet, newest);
                });
                var hostnames = new LinkedHashMap<String, List<GatewayRoutes.CustomHostname>>();
                for (HostnameStore.Row row : tx.hostnames().list(namespace)) {
                    hostnames.computeIfAbsent(row.fleet(), f -> new ArrayList<>()).add(new GatewayRoutes.CustomHostname(
                            row.hostname(), row.certificate().map(HostnameStore.Certificate::fingerprint).orElse(null)));
                }
                served.forEach((fleet, service) -> fleets.add(new GatewayRoutes.FleetRoute(namespace, fleet, service,
                        machines.getOrDefault(fleet, List.of()).stream().map(m -> new GatewayRoutes.RouteMachine(
                                m.id(), m.observedState(), m.desiredState(), m.reported().privateIp())).toList(),
                        hostnames.getOrDefault(fleet, List.of()))));
            }
            return null;
        });
        return new GatewayRoutes(version(fleets), fleets);
    }

    private static String version(List<GatewayRoutes.FleetRoute> fleets) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(ApiJson.mapper().writeValueAsBytes(fleets));
            return HexFormat.of().formatHex(digest, 0, 12);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }
}
