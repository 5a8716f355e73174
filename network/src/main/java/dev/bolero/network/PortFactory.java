package dev.bolero.network;

import java.util.List;

/**
 * Makes the device a machine's frames enter the bridge through. On a node that is a tap the VMM opens; tests plug a
 * veth pair whose far end sits in a network namespace standing in for the guest.
 */
@FunctionalInterface
interface PortFactory {

    /** {@code ip -batch} lines that create port {@code name} for {@code machineId} (NodeNetwork enslaves it and sets it up). */
    List<String> create(String machineId, String name, String mac);

    PortFactory TAP = (machineId, name, mac) -> List.of("tuntap add dev " + name + " mode tap");
}
