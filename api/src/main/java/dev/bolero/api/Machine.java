package dev.bolero.api;

import dev.bolero.core.CheckStatus;
import dev.bolero.core.MachineSpec;
import dev.bolero.core.MachineState;
import java.time.Instant;
import java.util.List;

/**
 * A machine as the node API shows it.
 *
 * @param namespace the tenant it belongs to
 * @param config its configuration, defaults filled in
 * @param imageDigest the manifest digest the image reference resolved to; null until pulled
 * @param exitCode the workload's exit code once it exited; null otherwise
 * @param error why the machine failed; null otherwise
 * @param restartCount automatic restarts in a row under the restart policy (reset by a start by request)
 * @param ip the machine's IPv4 address on its namespace's network; null when the node gives it no network
 * @param privateIp its address on the cluster's private network (the same as {@code ip} on a node that takes part in
 *     it: its namespace's subnet there comes from the private address plan); null otherwise
 * @param checks its health checks' last results, by name (empty without checks, or before its workload started)
 */
public record Machine(
        String id,
        String name,
        String namespace,
        MachineState state,
        MachineSpec config,
        String imageDigest,
        Integer exitCode,
        String error,
        Instant createdAt,
        Instant updatedAt,
        int restartCount,
        String ip,
        String privateIp,
        List<CheckStatus> checks) {

    public Machine {
        checks = checks == null ? List.of() : List.copyOf(checks);
    }

    /**
     * This machine with address {@code ip} (null: none), which is its private address when {@code isPrivate}, and its
     * checks' results.
     */
    public Machine with(String ip, boolean isPrivate, List<CheckStatus> checks) {
        return new Machine(id, name, namespace, state, config, imageDigest, exitCode, error, createdAt, updatedAt,
                restartCount, ip, isPrivate ? ip : null, checks);
    }
}
