package dev.bolero.network;

import dev.bolero.api.wire.Names;
import java.util.Objects;
import java.util.Optional;

/**
 * A running machine as internal DNS names it: {@code <machineId>.vm.<namespace>.internal}, {@code <fleet>.<namespace>.internal}
 * (with the fleet's other running machines) and {@code <name>.<namespace>.internal}.
 *
 * @param machineId the machine's id
 * @param namespace its namespace
 * @param fleet the fleet it belongs to, if any
 * @param name its name, if it has one
 * @param address its private address, IPv4
 * @throws dev.bolero.api.ApiException if a name is not a DNS label
 * @throws IllegalArgumentException if the address is not IPv4
 */
public record DnsMachine(String machineId, String namespace, Optional<String> fleet, Optional<String> name, String address) {
    public DnsMachine {
        Names.check("machine id", machineId);
        Names.check("namespace", namespace);
        Objects.requireNonNull(fleet, "fleet").ifPresent(f -> Names.check("fleet", f));
        Objects.requireNonNull(name, "name").ifPresent(n -> Names.check("machine name", n));
        Ipv4.parse(address, "machine address");
    }
}
