package dev.bolero.scheduler;

import java.util.Comparator;
import java.util.Locale;
import java.util.Objects;

/**
 * A port a machine publishes on its node: at most one machine of a node may publish each (protocol, port).
 *
 * @param protocol the transport protocol
 * @param port the port on the node, 1-65535
 * @throws IllegalArgumentException from the constructor when the port is out of range
 * @throws NullPointerException from the constructor when the protocol is null
 */
public record HostPort(Protocol protocol, int port) implements Comparable<HostPort> {

    /** A transport protocol of a published port. */
    public enum Protocol {
        TCP,
        UDP;

        /** The name used on the wire and in messages: {@code tcp}, {@code udp}. */
        public String wireName() {
            return name().toLowerCase(Locale.ROOT);
        }

        /**
         * Returns the protocol with this wire name.
         *
         * @throws IllegalArgumentException when no protocol has that name
         */
        public static Protocol parse(String wireName) {
            return switch (wireName) {
                case "tcp" -> TCP;
                case "udp" -> UDP;
                default -> throw new IllegalArgumentException("protocol: unknown name '" + wireName + "'");
            };
        }
    }

    private static final Comparator<HostPort> ORDER = Comparator.comparing(HostPort::protocol)
            .thenComparingInt(HostPort::port);

    public HostPort {
        Objects.requireNonNull(protocol, "host port: protocol");
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("host port: " + protocol.wireName() + " port must be between 1 and "
                    + "65535, got " + port);
        }
    }

    /** The TCP port {@code port}. */
    public static HostPort tcp(int port) {
        return new HostPort(Protocol.TCP, port);
    }

    /** The UDP port {@code port}. */
    public static HostPort udp(int port) {
        return new HostPort(Protocol.UDP, port);
    }

    /** As operators read it: {@code tcp port 8080}. */
    public String describe() {
        return protocol.wireName() + " port " + port;
    }

    /** Orders by protocol, then port. */
    @Override
    public int compareTo(HostPort other) {
        return ORDER.compare(this, other);
    }
}
