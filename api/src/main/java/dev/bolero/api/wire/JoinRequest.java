package dev.bolero.api.wire;

import dev.bolero.api.ApiException;
import dev.bolero.scheduler.Driver;
import java.util.List;
import java.util.Map;

/**
 * Body of {@code POST /v1/nodes/join}, sent with the join token.
 *
 * @param name the node's host name, for operators
 * @param labels its labels; {@code region} names its region
 * @param drivers the VMMs it runs: {@code qemu}, {@code firecracker}, {@code cloud-hypervisor}
 * @param capacity what it offers to machines
 */
public record JoinRequest(String name, Map<String, String> labels, List<String> drivers, Capacity capacity) {
    public JoinRequest {
        Names.check("node name", name);
        labels = FleetSpec.Labels.check("labels", labels);
        drivers = checkDrivers(drivers);
        if (capacity == null) throw ApiException.invalid("join: capacity is required");
    }

    static List<String> checkDrivers(List<String> drivers) {
        if (drivers == null || drivers.isEmpty()) throw ApiException.invalid("drivers: at least one is required");
        for (String d : drivers) {
            try {
                Driver.parse(d);
            } catch (IllegalArgumentException e) {
                throw ApiException.invalid("drivers: unknown driver '" + d + "' (qemu, firecracker, cloud-hypervisor)");
            }
        }
        return List.copyOf(new java.util.TreeSet<>(drivers));
    }
}
