package dev.bolero.scheduler;

import java.time.Instant;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * What the scheduler knows about one node at a snapshot.
 *
 * @param id the node's unique id, not blank
 * @param state the node's state; only {@link NodeState#READY} nodes take machines
 * @param labels the node's labels; the {@value #REGION_LABEL} label names its region
 * @param drivers the VMMs the node can run
 * @param capacity what the node offers, after the caller applied any overcommit ratio
 * @param allocated what the machines already placed on the node use; may exceed {@code capacity} (e.g. after the
 *     capacity was lowered), in which case the node simply has no room
 * @param fleetMachines how many machines of each fleet run on the node (fleets absent from the map have none); read
 *     by the anti-affinity hint of {@link PlacementRequest#fleet()}
 * @param heartbeatExpires the node counts as gone from this instant on, even if its state still says ready
 * @param ports the host ports the machines assigned to the node publish; a request publishing any of them does not
 *     fit the node
 * @throws IllegalArgumentException from the constructor when the id is blank or a fleet count is not positive
 * @throws NullPointerException from the constructor when any component is null
 */
public record NodeView(
        String id,
        NodeState state,
        Map<String, String> labels,
        Set<Driver> drivers,
        Resources capacity,
        Resources allocated,
        Map<String, Integer> fleetMachines,
        Instant heartbeatExpires,
        Set<HostPort> ports) {

    /** The label that names a node's region. */
    public static final String REGION_LABEL = "region";

    public NodeView {
        Objects.requireNonNull(id, "node: id");
        if (id.isBlank()) {
            throw new IllegalArgumentException("node: blank id");
        }
        Objects.requireNonNull(state, "node " + id + ": state");
        labels = Map.copyOf(labels);
        drivers = Set.copyOf(drivers);
        Objects.requireNonNull(capacity, "node " + id + ": capacity");
        Objects.requireNonNull(allocated, "node " + id + ": allocated");
        fleetMachines = Map.copyOf(fleetMachines);
        fleetMachines.forEach((fleet, count) -> {
            if (count <= 0) {
                throw new IllegalArgumentException("node " + id + ": fleet " + fleet + " has count " + count);
            }
        });
        Objects.requireNonNull(heartbeatExpires, "node " + id + ": heartbeatExpires");
        ports = Set.copyOf(ports);
    }

    /** This node with one more machine, asking for {@code request}: its resources, fleet and ports in use. */
    NodeView withMachine(PlacementRequest request) {
        var fleets = new java.util.HashMap<>(fleetMachines);
        request.fleet().ifPresent(fleet -> fleets.merge(fleet, 1, Integer::sum));
        var used = new java.util.HashSet<>(ports);
        used.addAll(request.ports());
        return new NodeView(id, state, labels, drivers, capacity, allocated.add(request.resources()), fleets,
                heartbeatExpires, used);
    }

    /** The node's region, from its {@value #REGION_LABEL} label. */
    public Optional<String> region() {
        return Optional.ofNullable(labels.get(REGION_LABEL));
    }
}
