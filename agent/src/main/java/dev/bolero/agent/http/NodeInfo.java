package dev.bolero.agent.http;

import dev.bolero.runtime.DriverCapabilities;
import dev.bolero.runtime.boot.GuestKernel;
import dev.bolero.runtime.drivers.Drivers;
import io.javalin.http.Context;
import java.util.List;
import dev.bolero.api.wire.WireGuardKind;
import java.util.Locale;
import java.util.Optional;

/**
 * {@code GET /api/v1/node}: what this node runs machines with — the driver in use, its accelerator, whether VMMs
 * are jailed, the guest kernel, and every driver with whether it is usable here (and why not) and its capabilities.
 */
public final class NodeInfo {
    private volatile Node node;

    /** @param kernel the guest kernel machines boot; empty when the host has none */
    public NodeInfo(Drivers.Selection drivers, boolean jailed, Optional<GuestKernel> kernel) {
        DriverCapabilities used = drivers.driver().capabilities();
        this.node = new Node(drivers.driver().name(), used.accelerator(), jailed,
                kernel.map(k -> new Kernel(k.flavour().name().toLowerCase(Locale.ROOT), k.image().toString())).orElse(null),
                drivers.drivers().stream()
                        .map(s -> new Driver(s.name(), s.usable(), s.reason(), s.capabilities()))
                        .toList(), null);
    }

    /** Says from now on that the node's private-network link is carried by {@code kind}. */
    public void wireGuard(WireGuardKind kind) {
        Node n = node;
        node = new Node(n.driver(), n.accelerator(), n.jailed(), n.kernel(), n.drivers(), kind);
    }

    /**
     * The node as served (snake_case JSON); {@code kernel} is null when the host has no guest kernel.
     *
     * @param wireguard which WireGuard carries the node's private-network link; null when it takes no part in it
     */
    public record Node(String driver, String accelerator, boolean jailed, Kernel kernel, List<Driver> drivers,
                       WireGuardKind wireguard) {
        public Node {
            drivers = List.copyOf(drivers);
        }
    }

    /**
     * The guest kernel machines boot.
     *
     * @param flavour {@code lean} (Bolero's microVM kernel, every driver built in) or {@code distro} (a distribution
     *     kernel whose modules the initramfs carries)
     * @param image its file on the host
     */
    public record Kernel(String flavour, String image) {}

    /** One driver: {@code reason} is null when it is usable. */
    public record Driver(String name, boolean usable, String reason, DriverCapabilities capabilities) {}

    void get(Context ctx) {
        ctx.json(node);
    }
}
