package dev.bolero.server.store;

import dev.bolero.api.MachineConfig;
import dev.bolero.api.MachineState;
import dev.bolero.api.StopRequest;
import dev.bolero.api.wire.ClusterMachine;
import java.time.Instant;
import java.util.Map;

/**
 * A machine's row: desired state, placement constraints, assignment and observed state.
 *
 * @param desiredState {@code running}, {@code stopped} or {@code destroyed} (deleted, kept until its node confirms)
 * @param stop how to stop it when desired is stopped; null for the default
 * @param nodeId the node it is assigned to, or null
 * @param configVersion the version of its fleet's config it was created from
 */
public record MachineRow(
        String id, String namespace, String fleet, String name, MachineConfig config, String region,
        Map<String, String> nodeLabels, String desiredState, StopRequest stop,
        long generation, String nodeId, MachineState observedState, String imageDigest, Integer exitCode,
        String error, long modifyIndex, Instant createdAt, Instant updatedAt, long configVersion) {
    public MachineRow {
        nodeLabels = Map.copyOf(nodeLabels);
    }

    /** Whether it moves to another node when its node is lost or drained: unless its restart policy is {@code no}. */
    public boolean moves() {
        return !config.restart().policy().equals("no");
    }

    /** vCPUs it asks for. */
    public int cpus() {
        return config.guest().cpus();
    }

    /** MiB it asks for. */
    public long memoryMb() {
        return config.guest().memoryMb();
    }

    /** The row as the public API shows it. */
    public ClusterMachine toWire() {
        return new ClusterMachine(id, name, namespace, fleet, observedState, desiredState, config, nodeId, region,
                nodeLabels, imageDigest, exitCode, error, createdAt, updatedAt, configVersion);
    }
}
