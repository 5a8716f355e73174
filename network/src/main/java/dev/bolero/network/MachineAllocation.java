package dev.bolero.network;

import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * A machine's share of the node's network, as persisted.
 *
 * @param machineId the machine
 * @param namespace the namespace whose subnet and bridge it is on
 * @param ip its address, without prefix
 * @param mac the MAC address its frames must carry
 * @param tap its tap device
 * @param egress whether it may reach beyond its namespace
 * @param services its published ports
 * @param gatewayPorts its TCP ports the cluster's gateways may reach ({@link NetworkRequest#gatewayPorts()})
 */
public record MachineAllocation(String machineId, String namespace, String ip, String mac, String tap, boolean egress,
                                List<Service> services, Set<Integer> gatewayPorts) {
    public MachineAllocation {
        Objects.requireNonNull(machineId, "machineId");
        Objects.requireNonNull(namespace, "namespace");
        Objects.requireNonNull(ip, "ip");
        Objects.requireNonNull(mac, "mac");
        Objects.requireNonNull(tap, "tap");
        services = List.copyOf(services);
        gatewayPorts = Service.checkPorts("gateway port", gatewayPorts);
    }
}
