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
 * @param desiredState {@link MachineState#RUNNING}, {@link MachineState#STOPPED}, {@link MachineState#SUSPENDED} (its
 *     node saves its memory and keeps its share; a start resumes it) or {@link MachineState#DESTROYED} (deleted, kept
 *     until its node confirms)
 * @param stop how to stop it when desired is stopped; null for its {@code config.stop}
 * @param nodeId the node it is assigned to, or null
 * @param reported what its node last reported; {@link Reported#NONE} before any report
 * @param configVersion the version of its fleet's config (its release) it was created from
 * @param version its own version: 1 at creation, bumped by each in-place update of its spec
 */
public record MachineRow(
        String id, String namespace, String fleet, String name, MachineSpec spec, String region,
        Map<String, String> nodeLabels, MachineState desiredState, MachineSpec.Stop stop,
        long generation, String nodeId, Reported reported, long modifyIndex, Instant createdAt, Instant updatedAt,
        long configVersion, long version) {
    public MachineRow {
        Objects.requireNonNull(spec, "spec");
        nodeLabels = Map.copyOf(nodeLabels);
        Objects.requireNonNull(desiredState, "desiredState");
        Objects.requireNonNull(reported, "reported");
    }

    /** The state its node last reported; {@link MachineState#CREATED} before any report. */
    public MachineState observedState() {
        return reported.state();
    }

    /** Why it failed or awaits a node, as last recorded; null otherwise. */
    public String error() {
        return reported.error();
    }

    /** Whether it serves: reported running with every check of its config passing ({@link Reported#healthy}). */
    public boolean healthy() {
        return reported.healthy(spec.checks().keySet());
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
                Reported.NONE, 0, now, now, configVersion, 1);
    }

    /** This new machine assigned to {@code nodeId} at state index {@code index}. */
    public MachineRow assignedTo(String nodeId, long index) {
        return new MachineRow(id, namespace, fleet, name, spec, region, nodeLabels, desiredState, stop, generation,
                nodeId, reported, index, createdAt, updatedAt, configVersion, version);
    }

    /** This machine with {@code newSpec}, as an in-place update leaves it (before its version is bumped). */
    public MachineRow withSpec(MachineSpec newSpec) {
        return new MachineRow(id, namespace, fleet, name, newSpec, region, nodeLabels, desiredState, stop, generation,
                nodeId, reported, modifyIndex, createdAt, updatedAt, configVersion, version);
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

    /** The row as the public API shows it, its node named {@code nodeName} (null without a node). */
    public ClusterMachine toWire(String nodeName) {
        return new ClusterMachine(id, name, namespace, fleet, reported.state(), desiredState, spec, nodeId, nodeName,
                region, nodeLabels, reported.imageDigest(), reported.exitCode(), reported.error(), createdAt, updatedAt,
                configVersion, version, reported.privateIp(), reported.checks());
    }
}
