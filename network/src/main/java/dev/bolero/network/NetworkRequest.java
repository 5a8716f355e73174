package dev.bolero.network;

import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * What a machine asks of the node's network.
 *
 * @param egress whether the machine may open connections beyond its namespace (through NAT to the uplink); without
 *     it the machine still talks to its own namespace's machines and answers on its published ports
 * @param services ports to publish on the node
 * @param gatewayPorts TCP ports of the machine the cluster's gateways may reach over the private network (its fleet's
 *     {@code http_service} internal port); nothing else of it is open to them
 * @throws IllegalArgumentException if two services publish the same protocol and port, or a port is outside 1–65535
 */
public record NetworkRequest(boolean egress, List<Service> services, Set<Integer> gatewayPorts) {

    public NetworkRequest {
        services = List.copyOf(services);
        gatewayPorts = Service.checkPorts("gateway port", gatewayPorts);
        var seen = new HashSet<String>();
        for (var s : services) {
            if (!seen.add(s.protocol().wireName() + "/" + s.port())) {
                throw new IllegalArgumentException("port " + s.protocol().wireName() + " " + s.port() + " is published twice");
            }
        }
    }

    /** A machine no gateway reaches. */
    public NetworkRequest(boolean egress, List<Service> services) {
        this(egress, services, Set.of());
    }

    /** Egress on, nothing published, nothing open to gateways. */
    public static NetworkRequest defaults() {
        return new NetworkRequest(true, List.of());
    }
}
