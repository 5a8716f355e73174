package dev.bolero.agent.cluster;

import dev.bolero.api.wire.Capacity;
import dev.bolero.api.wire.Names;
import java.net.URI;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * How an agent joins a control plane.
 *
 * @param servers base URLs ({@code http://host:port}) of the control plane's replicas, in the order the agent tries
 *     them: it keeps talking to the one that answers and moves on to the next when a call cannot reach it
 * @param joinToken the cluster's join token; used only when the data directory holds no node credential yet
 * @param nodeName the node's name (a DNS label), for operators
 * @param labels the node's labels; {@code region} names its region (checked by the join, as the server checks them)
 * @param capacity what machines may use; empty: the host's processors and memory
 * @param privateNetwork how the node takes part in the cluster's private network; empty: it takes none (its machines
 *     reach only their namespace's machines on the same node)
 */
public record ClusterConfig(List<URI> servers, String joinToken, String nodeName, Map<String, String> labels,
                            Optional<Capacity> capacity, Optional<PrivateNetworkConfig> privateNetwork) {
    public ClusterConfig {
        Objects.requireNonNull(privateNetwork, "privateNetwork");
        servers = List.copyOf(servers);
        Objects.requireNonNull(joinToken, "joinToken");
        Objects.requireNonNull(capacity, "capacity");
        if (servers.isEmpty()) throw new IllegalArgumentException("at least one server URL is needed");
        for (URI server : servers) {
            if (!"http".equals(server.getScheme()) && !"https".equals(server.getScheme())) {
                throw new IllegalArgumentException("server must be an http:// or https:// URL, got " + server);
            }
        }
        Names.check("node name", nodeName);
        labels = labels == null ? Map.of() : Map.copyOf(labels);
    }

    /** A node outside the private network. */
    public ClusterConfig(List<URI> servers, String joinToken, String nodeName, Map<String, String> labels,
                         Optional<Capacity> capacity) {
        this(servers, joinToken, nodeName, labels, capacity, Optional.empty());
    }

    /** A control plane at one URL. */
    public ClusterConfig(URI server, String joinToken, String nodeName, Map<String, String> labels,
                         Optional<Capacity> capacity) {
        this(List.of(server), joinToken, nodeName, labels, capacity);
    }

    /** This config with the node in the private network as {@code privateNetwork} says. */
    public ClusterConfig withPrivateNetwork(PrivateNetworkConfig privateNetwork) {
        return new ClusterConfig(servers, joinToken, nodeName, labels, capacity, Optional.of(privateNetwork));
    }

    /**
     * Parses {@code k=v,k2=v2} (empty: no labels).
     *
     * @throws IllegalArgumentException naming the malformed entry
     */
    public static Map<String, String> parseLabels(String text) {
        var labels = new java.util.TreeMap<String, String>();
        if (text == null || text.isBlank()) return labels;
        for (String entry : text.split(",")) {
            int eq = entry.indexOf('=');
            if (eq <= 0) throw new IllegalArgumentException("labels: expected k=v, got '" + entry + "'");
            labels.put(entry.substring(0, eq).trim(), entry.substring(eq + 1).trim());
        }
        return labels;
    }
}
