package dev.bolero.server.store;

import dev.bolero.api.wire.ClusterMachine;
import dev.bolero.core.MachineSpec;
import dev.bolero.core.MachineState;
import java.time.Instant;
import java.util.Map;
import java.util.Objects;

/**
 * A machine's row: its spec (stored as JSON) and placement constraints, its desired state and assignment, and the
 * state its node observed.
 *
 * @param spec the machine's configuration
 * @param desiredState {@link MachineState#RUNNING}, {@link MachineState#STOPPED} or {@link MachineState#DESTROYED}
 *     (deleted, kept until its node confirms)
 * @param stop how to stop it when desired is stopped; null for its {@code config.stop}
 * @param nodeId the node it is assigned to, or null
 * @param observedState what its node last reported; {@link MachineState#CREATED} before any report
 * @param configVersion the version of its fleet's config it was created from
 * @param privateIp its private-network address as its node reported it; null when it has none
 */
public record MachineRow(
        String id, String namespace, String fleet, String name, MachineSpec spec, String region,
        Map<String, String> nodeLabels, MachineState desiredState, MachineSpec.Stop stop,
        long generation, String nodeId, MachineState observedState, String imageDigest, Integer exitCode,
        String error, long modifyIndex, Instant createdAt, Instant updatedAt, long configVersion, String privateIp) {
    public MachineRow {
        Objects.requireNonNull(spec, "spec");
        nodeLabels = Map.copyOf(nodeLabels);
        Objects.requireNonNull(desiredState, "desiredState");
        Objects.requireNonNull(observedState, "observedState");
    }

    /**
     * A new machine on no node yet: generation 1, observed {@code created}, nothing reported.
     *
     * @param desiredState {@link MachineState#RUNNING} or {@link MachineState#STOPPED}
     */
    public static MachineRow created(String id, String namespace, String fleet, String name, MachineSpec spec,
                                     String region, Map<String, String> nodeLabels, MachineState desiredState,
                                     long configVersion, Instant now) {
        return new MachineRow(id, namespace, fleet, name, spec, region, nodeLabels, desiredState, null, 1, null,
                MachineState.CREATED, null, null, null, 0, now, now, configVersion, null);
    }

    /** This new machine assigned to {@code nodeId} at state index {@code index}. */
    public MachineRow assignedTo(String nodeId, long index) {
        return new MachineRow(id, namespace, fleet, name, spec, region, nodeLabels, desiredState, stop, generation,
                nodeId, observedState, imageDigest, exitCode, error, index, createdAt, updatedAt, configVersion,
                privateIp);
    }

    /** Whether it moves to another node when its node is lost or drained: unless its restart policy is {@code no}. */
    public boolean moves() {
        return spec.restart().any();
    }

    /** Whether it is deleted (kept until its node confirms). */
    public boolean deleted() {
        return desiredState == MachineState.DESTROYED;
    }

    /** vCPUs it asks for. */
    public int cpus() {
        return spec.guest().cpus();
    }

    /** MiB it asks for. */
    public long memoryMb() {
        return spec.guest().memoryMb();
    }

    /** The row as the public API shows it. */
    public ClusterMachine toWire() {
        return new ClusterMachine(id, name, namespace, fleet, observedState, desiredState, spec, nodeId, region,
                nodeLabels, imageDigest, exitCode, error, createdAt, updatedAt, configVersion, privateIp);
    }
}
