package dev.bolero.api.wire;

import dev.bolero.core.MachineSpec;
import java.time.Instant;
import java.util.Map;

/**
 * A fleet: a named group of a namespace's machines sharing placement defaults and a machine config.
 *
 * @param config the machine config new machines are created from; none when null
 * @param configVersion 1 at creation, bumped by each update that changes {@code config}; a machine records the version
 *     it was created from ({@link ClusterMachine#configVersion()})
 * @param outdatedMachines how many of its machines were created from an older version of {@code config}: updates do
 *     not replace running machines
 * @param count how many machines the control plane keeps in it; null when they are made by hand
 *     ({@link FleetSpec#count()})
 */
public record Fleet(String namespace, String name, FleetStrategy strategy, String region,
                    Map<String, String> nodeLabels, MachineSpec.Overlay config, long configVersion,
                    int outdatedMachines, Instant createdAt, Instant updatedAt, Integer count) {
    public Fleet {
        nodeLabels = Map.copyOf(nodeLabels);
    }
}
