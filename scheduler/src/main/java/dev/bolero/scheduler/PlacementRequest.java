package dev.bolero.scheduler;

import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * What one machine needs from a node.
 *
 * @param resources what the machine uses; at least one vCPU and one MiB
 * @param region the region the node must be in, if any
 * @param nodeLabels labels the node must carry with exactly these values (all of them); the region goes in
 *     {@code region}, not here
 * @param driver the VMM the node must be able to run, if any
 * @param strategy how to rank the nodes that can take the machine
 * @param fleet the fleet the machine belongs to, if any: a soft anti-affinity hint; nodes running fewer machines of
 *     this fleet are preferred over any score, so a fleet lands on distinct nodes while it can
 * @param ports the host ports the machine publishes: only a node where none of them is in use fits
 * @param node the one node the machine may run on, if any (where its volumes live); every other filter still applies
 * @throws IllegalArgumentException from the constructor when the resources are zero in a dimension or
 *     {@code nodeLabels} contains the region label
 */
public record PlacementRequest(
        Resources resources,
        Optional<String> region,
        Map<String, String> nodeLabels,
        Optional<Driver> driver,
        Strategy strategy,
        Optional<String> fleet,
        Set<HostPort> ports,
        Optional<String> node) {

    public PlacementRequest {
        Objects.requireNonNull(resources, "placement request: resources");
        if (resources.cpus() == 0 || resources.memoryMb() == 0) {
            throw new IllegalArgumentException("placement request: needs at least 1 vCPU and 1 MiB, got "
                    + resources.describe());
        }
        Objects.requireNonNull(region, "placement request: region");
        nodeLabels = Map.copyOf(nodeLabels);
        if (nodeLabels.containsKey(NodeView.REGION_LABEL)) {
            throw new IllegalArgumentException("placement request: put the region in 'region', not in node labels");
        }
        Objects.requireNonNull(driver, "placement request: driver");
        Objects.requireNonNull(strategy, "placement request: strategy");
        Objects.requireNonNull(fleet, "placement request: fleet");
        ports = Set.copyOf(ports);
        Objects.requireNonNull(node, "placement request: node");
    }

    /** A bin-packing request for this much, with no constraints. */
    public static PlacementRequest of(int cpus, long memoryMb) {
        return new PlacementRequest(new Resources(cpus, memoryMb), Optional.empty(), Map.of(), Optional.empty(),
                Strategy.BINPACK, Optional.empty(), Set.of(), Optional.empty());
    }

    /** This request, restricted to {@code region}. */
    public PlacementRequest inRegion(String region) {
        return new PlacementRequest(resources, Optional.of(region), nodeLabels, driver, strategy, fleet, ports, node);
    }

    /** This request, also requiring {@code label=value} on the node. */
    public PlacementRequest withLabel(String label, String value) {
        var labels = new HashMap<>(nodeLabels);
        labels.put(label, value);
        return new PlacementRequest(resources, region, labels, driver, strategy, fleet, ports, node);
    }

    /** This request, requiring a node that runs {@code driver}. */
    public PlacementRequest withDriver(Driver driver) {
        return new PlacementRequest(resources, region, nodeLabels, Optional.of(driver), strategy, fleet, ports, node);
    }

    /** This request, ranked with {@code strategy}. */
    public PlacementRequest withStrategy(Strategy strategy) {
        return new PlacementRequest(resources, region, nodeLabels, driver, strategy, fleet, ports, node);
    }

    /** This request, as a machine of {@code fleet} (anti-affinity hint). */
    public PlacementRequest inFleet(String fleet) {
        return new PlacementRequest(resources, region, nodeLabels, driver, strategy, Optional.of(fleet), ports, node);
    }

    /** This request, also publishing {@code port} on its node. */
    public PlacementRequest publishing(HostPort port) {
        var published = new HashSet<>(ports);
        published.add(port);
        return new PlacementRequest(resources, region, nodeLabels, driver, strategy, fleet, published, node);
    }

    /** This request, restricted to node {@code nodeId}. */
    public PlacementRequest onNode(String nodeId) {
        return new PlacementRequest(resources, region, nodeLabels, driver, strategy, fleet, ports,
                Optional.of(nodeId));
    }

    /** What the request needs free on a node: {@code 4 vCPUs and 8192 MiB and tcp port 8080}. */
    String describeNeeds() {
        var text = new StringBuilder(resources.describe());
        if (!ports.isEmpty()) {
            text.append(" and ").append(describePorts(" and "));
        }
        return text.toString();
    }

    /** The ports, in order, joined by {@code separator}: {@code tcp port 80 and udp port 53}. */
    String describePorts(String separator) {
        return String.join(separator, ports.stream().sorted().map(HostPort::describe).toList());
    }

    /**
     * The constraints as operators read them: {@code on node n1 in region eu with driver firecracker and labels
     * {disk=ssd}}.
     */
    String describeConstraints() {
        var text = new StringBuilder();
        node.ifPresent(n -> text.append(" on node ").append(n));
        region.ifPresent(r -> text.append(" in region ").append(r));
        if (driver.isPresent() || !nodeLabels.isEmpty()) {
            text.append(" with");
            driver.ifPresent(d -> text.append(" driver ").append(d.wireName()));
            if (!nodeLabels.isEmpty()) {
                text.append(driver.isPresent() ? " and" : "").append(" labels ").append(new java.util.TreeMap<>(nodeLabels));
            }
        }
        return text.toString();
    }
}
