package dev.bolero.network;

import java.util.HashSet;
import java.util.List;

/**
 * What a machine asks of the node's network.
 *
 * @param egress whether the machine may open connections beyond its namespace (through NAT to the uplink); without
 *     it the machine still talks to its own namespace's machines and answers on its published ports
 * @param services ports to publish on the node
 * @throws IllegalArgumentException if two services publish the same protocol and port
 */
public record NetworkRequest(boolean egress, List<Service> services) {

    public NetworkRequest {
        services = List.copyOf(services);
        var seen = new HashSet<String>();
        for (var s : services) {
            if (!seen.add(s.protocol().wireName() + "/" + s.port())) {
                throw new IllegalArgumentException("port " + s.protocol().wireName() + " " + s.port() + " is published twice");
            }
        }
    }

    /** Egress on, nothing published. */
    public static NetworkRequest defaults() {
        return new NetworkRequest(true, List.of());
    }
}
