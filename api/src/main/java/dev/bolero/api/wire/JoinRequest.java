package dev.bolero.api.wire;

import dev.bolero.api.ApiException;
import dev.bolero.core.Driver;
import java.util.List;
import java.util.Map;

/**
 * Body of {@code POST /v1/nodes/join}, sent with the join token.
 *
 * @param name the node's host name, for operators
 * @param labels its labels; {@code region} names its region
 * @param drivers the VMMs it can run: {@code qemu}, {@code firecracker}, {@code cloud-hypervisor}
 * @param capacity what it offers to machines
 * @param privateNetwork its end of the private network (key and endpoint, no kind yet); null when the node takes no
 *     part in it (started without {@code --private-network-endpoint})
 */
public record JoinRequest(String name, Map<String, String> labels, List<Driver> drivers, Capacity capacity,
                          NodeLink privateNetwork) {
    public JoinRequest {
        Names.check("node name", name);
        labels = FleetSpec.Labels.check("labels", labels);
        drivers = checkDrivers(drivers);
        if (capacity == null) throw ApiException.invalid("join: capacity is required");
    }

    /** A join of a node that takes no part in the private network. */
    public JoinRequest(String name, Map<String, String> labels, List<Driver> drivers, Capacity capacity) {
        this(name, labels, drivers, capacity, null);
    }

    /** The drivers, sorted and each once; at least one. */
    static List<Driver> checkDrivers(List<Driver> drivers) {
        if (drivers == null || drivers.isEmpty()) throw ApiException.invalid("drivers: at least one is required");
        if (drivers.stream().anyMatch(java.util.Objects::isNull)) {
            throw ApiException.invalid("drivers: null is not a driver");
        }
        return List.copyOf(java.util.EnumSet.copyOf(drivers));
    }
}
