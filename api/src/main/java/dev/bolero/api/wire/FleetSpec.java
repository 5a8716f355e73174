package dev.bolero.api.wire;

import dev.bolero.api.ApiException;
import dev.bolero.core.FieldPath;
import dev.bolero.core.MachineSpec;
import java.util.Collections;
import java.util.Map;
import java.util.Optional;
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
 * @param count how many machines the fleet keeps, 0 to {@value #MAX_COUNT}, in any region its machines may use
 *     ({@code region} when set): the control plane creates (from {@code config}) or deletes machines to match; null:
 *     machines are created and deleted by hand only, unless {@code counts} is given
 * @param counts how many machines the fleet keeps in each region, by region name (1-63 of A-Z a-z 0-9 . _ -), each
 *     0 to {@value #MAX_COUNT} and at most {@value #MAX_COUNT} in all: the control plane creates machines in the
 *     region that lacks them (on nodes of that region only) and deletes machines from the region that has too many;
 *     machines in a region it does not name go. Instead of {@code count}, never with it; {@code region} stays the
 *     default of machines created by hand
 * @throws ApiException {@code invalid_argument} naming the bad field
 */
public record FleetSpec(String name, FleetStrategy strategy, String region, Map<String, String> nodeLabels,
                        MachineSpec.Overlay config, Integer count, Map<String, Integer> counts) {
    /** The largest {@code count}, and the largest sum of {@code counts}. */
    public static final int MAX_COUNT = 1000;
    /** What a region's name in {@code counts} may be. */
    public static final String REGION = "[A-Za-z0-9._-]{1,63}";

    /** A spec with placement defaults only, no machine config. */
    public FleetSpec(String name, FleetStrategy strategy, String region, Map<String, String> nodeLabels) {
        this(name, strategy, region, nodeLabels, null, null, null);
    }

    /** A spec whose machines are created by hand. */
    public FleetSpec(String name, FleetStrategy strategy, String region, Map<String, String> nodeLabels,
                     MachineSpec.Overlay config) {
        this(name, strategy, region, nodeLabels, config, null, null);
    }

    /** A spec keeping {@code count} machines in any region (null: by hand). */
    public FleetSpec(String name, FleetStrategy strategy, String region, Map<String, String> nodeLabels,
                     MachineSpec.Overlay config, Integer count) {
        this(name, strategy, region, nodeLabels, config, count, null);
    }

    /** This spec keeping {@code count} machines in any region (null: by hand). */
    public FleetSpec withCount(Integer count) {
        return new FleetSpec(name, strategy, region, nodeLabels, config, count, null);
    }

    /** This spec keeping {@code scale}'s machines (empty: by hand). */
    public FleetSpec withScale(Optional<FleetScale> scale) {
        return switch (scale.orElse(null)) {
            case null -> withCount(null);
            case FleetScale.Total t -> withCount(t.count());
            case FleetScale.PerRegion r -> new FleetSpec(name, strategy, region, nodeLabels, config, null, r.counts());
        };
    }

    /** This spec with machine config {@code config}. */
    public FleetSpec withConfig(MachineSpec.Overlay config) {
        return new FleetSpec(name, strategy, region, nodeLabels, config, count, counts);
    }

    /** This spec named {@code name}. */
    public FleetSpec withName(String name) {
        return new FleetSpec(name, strategy, region, nodeLabels, config, count, counts);
    }

    public FleetSpec {
        if (name != null) Names.check("fleet name", name);
        if (strategy == null) strategy = FleetStrategy.DEFAULT;
        nodeLabels = Labels.check("node_labels", nodeLabels);
        if (region != null && region.isBlank()) throw ApiException.invalid("region must not be blank");
        FieldPath.root().field("count").between(count, 0, MAX_COUNT);
        if (counts != null) counts = checkCounts(counts, count);
    }

    /** What the fleet keeps: {@code count} or {@code counts}; empty when its machines are made by hand. */
    public Optional<FleetScale> scale() {
        return FleetScale.of(count, counts);
    }

    /** {@code counts}, checked and sorted by region. */
    private static Map<String, Integer> checkCounts(Map<String, Integer> counts, Integer count) {
        FieldPath at = FieldPath.root().field("counts");
        if (count != null) {
            throw at.invalid("cannot be given with count: give one count for the whole fleet or one per region");
        }
        if (counts.isEmpty()) throw at.invalid("must name at least one region (or give count instead)");
        var sorted = new TreeMap<String, Integer>();
        long total = 0;
        for (var e : counts.entrySet()) {
            if (e.getKey() == null || !e.getKey().matches(REGION)) {
                throw at.invalid("has region name '" + e.getKey() + "': it must be 1-63 of A-Z a-z 0-9 . _ -");
            }
            FieldPath field = at.field(e.getKey());
            total += field.between(field.required(e.getValue()), 0, MAX_COUNT);
            sorted.put(e.getKey(), e.getValue());
        }
        if (total > MAX_COUNT) throw at.invalid("must add up to at most " + MAX_COUNT + ", got " + total);
        return Collections.unmodifiableSortedMap(sorted);
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
