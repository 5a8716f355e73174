package dev.bolero.gateway;

import dev.bolero.core.ValidationException;

/**
 * One running machine of a fleet as the gateway reaches it: its address on the private network and whether its
 * checks pass. Only healthy backends receive requests.
 *
 * @param machineId the machine's id, unique in the cluster (the key of its load and failure history)
 * @param host the machine's private address (an IP literal, no name lookups per request)
 * @param port the fleet's internal port
 */
public record Backend(String machineId, String host, int port, boolean healthy) {
    /** @throws ValidationException for a blank id or host, or a port outside 1..65535 */
    public Backend {
        if (machineId == null || machineId.isBlank()) {
            throw new ValidationException("backend: blank machine id");
        }
        if (host == null || host.isBlank()) {
            throw new ValidationException("backend " + machineId + ": blank host");
        }
        if (port < 1 || port > 65535) {
            throw new ValidationException("backend " + machineId + ": port " + port + " outside 1..65535");
        }
    }
}
