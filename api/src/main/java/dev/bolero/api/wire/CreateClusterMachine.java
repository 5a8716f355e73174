package dev.bolero.api.wire;

import dev.bolero.api.ApiException;
import dev.bolero.core.MachineSpec;
import java.util.Map;

/**
 * Body of {@code POST /v1/namespaces/{ns}/fleets/{fleet}/machines}: what only a create says plus the machine's
 * {@code config}, an overlay on its fleet's config ({@link MachineSpec.Overlay#over}: a field set here replaces the
 * fleet's whole field, {@code env} merges key by key). The machine's namespace is the tenant in the URL.
 *
 * <p>The cluster's defaults lie under the fleet's config: unlike on a single node, {@code config.restart} defaults to
 * {@code on-failure} with unlimited retries, so a cluster machine outlives its node unless its policy says {@code no}.
 *
 * @param name the machine's name in its namespace; {@code m-<id>} when absent
 * @param start whether to start the machine at once (default no)
 * @param region the region of the node; the fleet's when null
 * @param nodeLabels labels the node must carry; the fleet's when null
 * @param config over the fleet's config; {@code config.image} is required unless the fleet's config names one
 * @throws ApiException {@code invalid_argument} naming the bad field
 */
public record CreateClusterMachine(String name, Boolean start, String region, Map<String, String> nodeLabels,
                                   MachineSpec.Overlay config) {
    /** What lies under every fleet's config in a cluster: restarts (and moves) on failure. */
    public static final MachineSpec.Overlay CLUSTER_DEFAULTS =
            MachineSpec.builder().restart(new MachineSpec.Restart("on-failure", null)).overlay();
    /** A create from the fleet's config alone, started at once (what a fleet's {@code count} makes). */
    public static final CreateClusterMachine START = new CreateClusterMachine(null, true, null, null, null);

    public CreateClusterMachine {
        if (name != null) Names.check("name", name);
        if (region != null && region.isBlank()) throw ApiException.invalid("region must not be blank");
        if (nodeLabels != null) {
            nodeLabels = FleetSpec.Labels.check("node_labels", nodeLabels);
            if (nodeLabels.containsKey("region")) {
                throw ApiException.invalid("node_labels: put the region in 'region', not in node_labels");
            }
        }
        if (config == null) config = MachineSpec.Overlay.EMPTY;
    }

    /**
     * The machine's spec: this body's config over {@code fleet}'s (none: null) over the cluster's defaults.
     *
     * @throws dev.bolero.core.ValidationException ({@code config.image is required}) when neither names an image
     */
    public MachineSpec spec(MachineSpec.Overlay fleet) {
        return config.over(fleet == null ? CLUSTER_DEFAULTS : fleet.over(CLUSTER_DEFAULTS)).toSpec();
    }

    /** This create placing the machine in {@code region}. */
    public CreateClusterMachine inRegion(String region) {
        return new CreateClusterMachine(name, start, region, nodeLabels, config);
    }

    /** Whether to start the machine at once (default no). */
    public boolean startNow() {
        return Boolean.TRUE.equals(start);
    }
}
