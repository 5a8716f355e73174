package dev.bolero.api;

/**
 * A machine's port published on its node: connections to {@code port} on the node's publish address reach
 * {@code internalPort} in the machine.
 *
 * @param protocol {@code tcp} or {@code udp}
 * @param internalPort the port the workload listens on, 1-65535
 * @param port the port on the node, 1-65535; unique per protocol on the node (a conflict is refused at create)
 * @throws ApiException {@code invalid_argument} when a field is missing or out of range
 */
public record ServicePort(String protocol, Integer internalPort, Integer port) {
    public ServicePort {
        if (!"tcp".equals(protocol) && !"udp".equals(protocol)) {
            throw ApiException.invalid("services: protocol must be tcp or udp, got " + quoted(protocol));
        }
        check("internal_port", internalPort);
        check("port", port);
    }

    private static void check(String field, Integer value) {
        if (value == null) throw ApiException.invalid("services: " + field + " is required");
        if (value < 1 || value > 65535) {
            throw ApiException.invalid("services: " + field + " must be between 1 and 65535, got " + value);
        }
    }

    private static String quoted(String s) {
        return s == null ? "nothing" : "'" + s + "'";
    }
}
