package dev.bolero.api.wire;

import dev.bolero.api.ApiException;
import dev.bolero.core.Driver;
import java.util.List;

/**
 * Body of {@code POST /v1/nodes/{id}/heartbeat}.
 *
 * @param capacity what the node offers now
 * @param drivers the VMMs it can run now (those its driver probing found usable)
 * @param machines every machine the node has, with its observed state
 * @param privateNetwork its end of the private network now (key, endpoint and WireGuard kind); a changed key or
 *     endpoint reaches its peers. Null when it takes no part in it
 */
public record Heartbeat(Capacity capacity, List<Driver> drivers, List<MachineReport> machines,
                        NodeLink privateNetwork) {
    public Heartbeat {
        if (capacity == null) throw ApiException.invalid("heartbeat: capacity is required");
        drivers = JoinRequest.checkDrivers(drivers);
        machines = machines == null ? List.of() : List.copyOf(machines);
    }

    /** A heartbeat of a node that takes no part in the private network. */
    public Heartbeat(Capacity capacity, List<Driver> drivers, List<MachineReport> machines) {
        this(capacity, drivers, machines, null);
    }
}
