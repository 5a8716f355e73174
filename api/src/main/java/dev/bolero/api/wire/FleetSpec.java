package dev.bolero.api.wire;

import dev.bolero.api.ApiException;
import dev.bolero.core.FieldPath;
import dev.bolero.core.MachineSpec;
import java.util.Map;
import java.util.TreeMap;

/**
 * Body of {@code POST /v1/namespaces/{ns}/fleets} and {@code PUT …/fleets/{fleet}}: a fleet's placement defaults and
 * machine config, used by its machines that do not set their own. A {@code PUT} replaces the whole spec; machines
 * created before it keep the config they were created with (a deployment replaces them: {@link DeploySpec}). A
 * changed {@code config} is a new {@link Release}.
 *
 * @param name the fleet's name; on {@code PUT} absent or equal to the path's
 * @param strategy default {@link FleetStrategy#DEFAULT} (bin-pack)
 * @param region the region its machines go to by default; none when null
 * @param nodeLabels labels the nodes of its machines must carry by default
 * @param config the machine config its machines are created from, their create's {@code config} over it
 *     ({@link CreateClusterMachine}); none when null
 * @param count how many machines the fleet keeps, 0 to {@value #MAX_COUNT}: the control plane creates (from
 *     {@code config}) or deletes machines to match; null: machines are created and deleted by hand only
 * @throws ApiException {@code invalid_argument} naming the bad field
 */
public record FleetSpec(String name, FleetStrategy strategy, String region, Map<String, String> nodeLabels,
                        MachineSpec.Overlay config, Integer count) {
    /** The largest {@code count}. */
    public static final int MAX_COUNT = 1000;

    /** A spec with placement defaults only, no machine config. */
    public FleetSpec(String name, FleetStrategy strategy, String region, Map<String, String> nodeLabels) {
        this(name, strategy, region, nodeLabels, null, null);
    }

    /** A spec whose machines are created by hand. */
    public FleetSpec(String name, FleetStrategy strategy, String region, Map<String, String> nodeLabels,
                     MachineSpec.Overlay config) {
        this(name, strategy, region, nodeLabels, config, null);
    }

    /** This spec keeping {@code count} machines (null: by hand). */
    public FleetSpec withCount(Integer count) {
        return new FleetSpec(name, strategy, region, nodeLabels, config, count);
    }

    public FleetSpec {
        if (name != null) Names.check("fleet name", name);
        if (strategy == null) strategy = FleetStrategy.DEFAULT;
        nodeLabels = Labels.check("node_labels", nodeLabels);
        if (region != null && region.isBlank()) throw ApiException.invalid("region must not be blank");
        FieldPath.root().field("count").between(count, 0, MAX_COUNT);
    }

    /** Labels map rules shared by fleets, machines and nodes. */
    static final class Labels {
        private Labels() {}

        static Map<String, String> check(String what, Map<String, String> labels) {
            if (labels == null) return Map.of();
            var sorted = new TreeMap<String, String>();
            labels.forEach((k, v) -> {
                if (k == null || !k.matches("[A-Za-z0-9._/-]{1,63}")) {
                    throw ApiException.invalid(what + ": label name '" + k + "' must be 1-63 of A-Z a-z 0-9 . _ / -");
                }
                if (v == null || v.length() > 253) {
                    throw ApiException.invalid(what + ": label " + k + " needs a value of at most 253 characters");
                }
                sorted.put(k, v);
            });
            return java.util.Collections.unmodifiableMap(sorted);
        }
    }
}
