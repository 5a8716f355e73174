package dev.bolero.api.wire;

import dev.bolero.api.ApiException;
import dev.bolero.core.MachineSpec;

/**
 * Body of {@code POST /v1/namespaces/{ns}/machines/{id}}: a new config for the machine, kept under its id. Its node
 * replaces the machine with one of the new config (a running one is stopped and started again, booting cold) and its
 * {@link ClusterMachine#version} goes up by one.
 *
 * @param config over the machine's current config ({@link MachineSpec.Overlay#over}: a field set here replaces the
 *     whole field, {@code env} merges key by key); {@code mounts} must stay as they are
 * @throws ApiException {@code invalid_argument} when {@code config} is missing
 */
public record UpdateClusterMachine(MachineSpec.Overlay config) {
    public UpdateClusterMachine {
        if (config == null) throw ApiException.invalid("config is required: the fields of the machine's config to change");
    }
}
