package dev.bolero.api.wire;

import dev.bolero.core.MachineSpec;
import java.time.Instant;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * A fleet: a named group of a namespace's machines sharing placement defaults and a machine config.
 *
 * @param config the machine config new machines are created from; none when null
 * @param configVersion 1 at creation, bumped by each update that changes {@code config}; a machine records the version
 *     it was created from ({@link ClusterMachine#configVersion()})
 * @param outdatedMachines how many of its machines were created from an older version of {@code config}: updates do
 *     not replace running machines
 * @param count how many machines the control plane keeps in it in all (with {@code counts}, their sum); null when
 *     they are made by hand ({@link FleetSpec#count()})
 * @param counts how many it keeps in each region, when it keeps them per region ({@link FleetSpec#counts()}); else
 *     null
 * @param regions each region's share of the fleet, desired beside actual (none when its machines are made by hand)
 */
public record Fleet(String namespace, String name, FleetStrategy strategy, String region,
                    Map<String, String> nodeLabels, MachineSpec.Overlay config, long configVersion,
                    int outdatedMachines, Instant createdAt, Instant updatedAt, Integer count,
                    Map<String, Integer> counts, List<FleetRegion> regions) {
    public Fleet {
        nodeLabels = Map.copyOf(nodeLabels);
        if (counts != null) counts = Collections.unmodifiableSortedMap(new TreeMap<>(counts));
        regions = regions == null ? List.of() : List.copyOf(regions);
    }

    /** This fleet with its regions' shares {@code regions}. */
    public Fleet withRegions(List<FleetRegion> regions) {
        return new Fleet(namespace, name, strategy, region, nodeLabels, config, configVersion, outdatedMachines,
                createdAt, updatedAt, count, counts, regions);
    }

    /** The spec that makes this fleet as it is: its placement, config and scale. */
    public FleetSpec spec() {
        return new FleetSpec(name, strategy, region, nodeLabels, config, null, null).withScale(scale());
    }

    /** What the control plane keeps in it, as a spec gives it ({@link FleetSpec#scale()}); empty: made by hand. */
    public Optional<FleetScale> scale() {
        return FleetScale.of(count, counts);
    }
}
