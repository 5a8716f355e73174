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
    /**
     * The header of a report-and-poll's {@code 204} whose server recorded the node's heartbeat again when the wait
     * ended: how many milliseconds, at least, passed between the server taking the poll's report and that record. A
     * node may count its report as accepted that much later than it sent it ({@code docs/cluster-protocol.md} §2).
     */
    public static final String HELD_MS_HEADER = "Bolero-Held-Ms";

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
