package dev.bolero.api.wire;

import java.util.Collections;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * How many machines a fleet keeps, and where: one count over whatever regions its machines may use
 * ({@link FleetSpec#count()}), or one count per region ({@link FleetSpec#counts()}). The control plane creates or
 * deletes machines to match, region by region.
 */
public sealed interface FleetScale {
    /**
     * The scale of a fleet's {@code count} or {@code counts} (at most one of them given); empty when neither is, its
     * machines made by hand.
     */
    static Optional<FleetScale> of(Integer count, java.util.Map<String, Integer> counts) {
        if (counts != null) return Optional.of(new PerRegion(new TreeMap<>(counts)));
        return Optional.ofNullable(count).map(Total::new);
    }

    /** How many machines the fleet keeps in all. */
    int total();

    /**
     * How many machines the fleet keeps in {@code region} (empty: machines of no particular region); 0 for a region
     * this scale does not name.
     */
    int in(Optional<String> region);

    /** {@code count} machines, in any region the fleet's machines may use. */
    record Total(int count) implements FleetScale {
        public Total {
            if (count < 0) throw new IllegalArgumentException("fleet scale: count " + count + " is negative");
        }

        @Override
        public int total() {
            return count;
        }

        @Override
        public int in(Optional<String> region) {
            return region.isEmpty() ? count : 0;
        }
    }

    /** {@code counts} machines in each region it names, none elsewhere. */
    record PerRegion(SortedMap<String, Integer> counts) implements FleetScale {
        public PerRegion {
            counts = Collections.unmodifiableSortedMap(new TreeMap<>(counts));
            if (counts.isEmpty()) throw new IllegalArgumentException("fleet scale: no region");
            counts.forEach((region, n) -> {
                if (n == null || n < 0) {
                    throw new IllegalArgumentException("fleet scale: region " + region + " needs a count from 0");
                }
            });
        }

        @Override
        public int total() {
            return counts.values().stream().mapToInt(Integer::intValue).sum();
        }

        @Override
        public int in(Optional<String> region) {
            return region.map(r -> counts.getOrDefault(r, 0)).orElse(0);
        }
    }
}
