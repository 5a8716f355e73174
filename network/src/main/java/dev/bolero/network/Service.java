package dev.bolero.network;

import java.util.Objects;

/**
 * A machine's port published on the node: traffic to {@code port} on the node's publish address reaches
 * {@code internalPort} in the guest.
 *
 * @throws IllegalArgumentException if a port is outside 1–65535
 */
public record Service(Protocol protocol, int internalPort, int port) {

    /** The transport a published port carries. */
    public enum Protocol {
        TCP, UDP;

        /** The name nftables and the API use: {@code tcp}, {@code udp}. */
        public String wireName() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    public Service {
        Objects.requireNonNull(protocol, "protocol");
        checkPort("internal_port", internalPort);
        checkPort("port", port);
    }

    /**
     * An immutable, sorted copy of {@code ports}, each checked as {@code what}.
     *
     * @throws IllegalArgumentException if a port is outside 1–65535
     */
    static java.util.SortedSet<Integer> checkPorts(String what, java.util.Collection<Integer> ports) {
        var sorted = new java.util.TreeSet<Integer>();
        for (int port : ports) {
            checkPort(what, port);
            sorted.add(port);
        }
        return java.util.Collections.unmodifiableSortedSet(sorted);
    }

    private static void checkPort(String field, int value) {
        if (value < 1 || value > 65535) {
            throw new IllegalArgumentException(field + " must be between 1 and 65535, got " + value);
        }
    }

    @Override
    public String toString() {
        return protocol.wireName() + " " + port + "->" + internalPort;
    }
}
