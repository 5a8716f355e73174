package dev.bolero.api.wire;

import dev.bolero.core.MachineSpec;
import dev.bolero.core.MachineState;
import java.util.List;
import java.util.Objects;

/**
 * What the gateway follows ({@code GET /v1/gateway/routes}): every fleet whose config has an {@code http_service},
 * with the machines that could serve it. A gateway long-polls with the {@code version} it holds and gets the next
 * version when anything in the document changes.
 *
 * @param version identifies the document's content: equal versions, equal documents
 * @param fleets the fleets with an {@code http_service}, ordered by namespace and name
 */
public record GatewayRoutes(String version, List<FleetRoute> fleets) {
    public GatewayRoutes {
        Objects.requireNonNull(version, "version");
        fleets = List.copyOf(fleets);
    }

    /**
     * One fleet the gateway serves.
     *
     * @param httpService the fleet's {@code http_service}: from its config, or else from its newest machine's
     * @param machines its live machines, oldest first
     * @param hostnames the custom host names attached to it, by name
     */
    public record FleetRoute(String namespace, String fleet, MachineSpec.HttpService httpService,
                             List<RouteMachine> machines, List<CustomHostname> hostnames) {
        public FleetRoute {
            Objects.requireNonNull(httpService, "httpService");
            machines = List.copyOf(machines);
            hostnames = List.copyOf(hostnames);
        }
    }

    /**
     * A custom host name of a fleet.
     *
     * @param certificate the fingerprint of the certificate its tenant uploaded, which a gateway fetches with
     *     {@code GET /v1/gateway/certificates/{hostname}} when it changes; null: the gateway gets one from its ACME
     *     server
     */
    public record CustomHostname(String name, String certificate) {
        public CustomHostname {
            Objects.requireNonNull(name, "name");
        }
    }

    /**
     * One machine of a served fleet.
     *
     * @param state the state its node last reported
     * @param desiredState {@code running} or {@code stopped}: a stopped one is what {@code auto_start} starts
     * @param address its address on the cluster's private network; null until its node reports one
     */
    public record RouteMachine(String id, MachineState state, MachineState desiredState, String address) {
        /**
         * Whether it can take requests now: running with an address, and not asked to stop (a machine being stopped
         * leaves the routes when asked, before its workload gets the signal).
         */
        public boolean serving() {
            return state == MachineState.RUNNING && desiredState == MachineState.RUNNING && address != null;
        }
    }
}
