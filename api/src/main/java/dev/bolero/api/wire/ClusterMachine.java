package dev.bolero.api.wire;

import dev.bolero.core.CheckStatus;
import dev.bolero.core.MachineSpec;
import dev.bolero.core.MachineState;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * A machine as the control plane shows it: the node API's {@code Machine} fields plus where it belongs and runs.
 *
 * @param state the state its node last reported; {@code created} before any report or while it awaits a node
 * @param desiredState {@code running} or {@code stopped}
 * @param config its configuration; {@code config.restart} also decides whether it moves when its node is lost or
 *     drained ({@link CreateClusterMachine})
 * @param nodeId the node it is assigned to; null while no node can take it
 * @param nodeName the name that node joined with; null without a node
 * @param error why it failed, or why it awaits a node
 * @param configVersion the version of its fleet's config it was created from ({@link Fleet#configVersion()})
 * @param version the machine's own version: 1 at creation, bumped by each in-place update of its config
 *     ({@link UpdateClusterMachine})
 * @param privateIp its address on the cluster's private network, as its node reported it; null when it has none
 * @param checks its health checks' last results as its node reported them (empty without checks or before a report)
 */
public record ClusterMachine(
        String id, String name, String namespace, String fleet, MachineState state, MachineState desiredState,
        MachineSpec config, String nodeId, String nodeName, String region, Map<String, String> nodeLabels,
        String imageDigest, Integer exitCode, String error, Instant createdAt, Instant updatedAt,
        long configVersion, long version, String privateIp, List<CheckStatus> checks) {
    public ClusterMachine {
        checks = checks == null ? List.of() : List.copyOf(checks);
        nodeLabels = Map.copyOf(nodeLabels);
    }
}
