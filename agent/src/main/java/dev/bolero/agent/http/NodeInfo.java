package dev.bolero.agent.http;

import dev.bolero.runtime.DriverCapabilities;
import dev.bolero.runtime.drivers.Drivers;
import io.javalin.http.Context;
import java.util.List;

/**
 * {@code GET /api/v1/node}: what this node runs machines with — the driver in use, its accelerator, whether VMMs
 * are jailed, and every driver with whether it is usable here (and why not) and its capabilities.
 */
public final class NodeInfo {
    private final Node node;

    public NodeInfo(Drivers.Selection drivers, boolean jailed) {
        DriverCapabilities used = drivers.driver().capabilities();
        this.node = new Node(drivers.driver().name(), used.accelerator(), jailed, drivers.drivers().stream()
                .map(s -> new Driver(s.name(), s.usable(), s.reason(), s.capabilities()))
                .toList());
    }

    /** The node as served (snake_case JSON). */
    public record Node(String driver, String accelerator, boolean jailed, List<Driver> drivers) {
        public Node {
            drivers = List.copyOf(drivers);
        }
    }

    /** One driver: {@code reason} is null when it is usable. */
    public record Driver(String name, boolean usable, String reason, DriverCapabilities capabilities) {}

    void get(Context ctx) {
        ctx.json(node);
    }
}
