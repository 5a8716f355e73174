package dev.bolero.api.wire;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bolero.api.ApiJson;
import dev.bolero.core.ValidationException;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/** A fleet's size: one {@code count}, or {@code counts} per region, never both. */
class FleetSpecTest {
    private static FleetSpec perRegion(Map<String, Integer> counts) {
        return new FleetSpec("web", null, null, Map.of(), null, null, counts);
    }

    @Test
    void aFleetKeepsOneCountOrACountPerRegionReadFromSnakeCaseJson() {
        var spec = ApiJson.mapper().readValue("{\"name\": \"web\", \"counts\": {\"ord\": 1, \"ams\": 2}}",
                FleetSpec.class);
        assertThat(spec.counts()).containsExactly(Map.entry("ams", 2), Map.entry("ord", 1));
        assertThat(spec.scale()).contains(new FleetScale.PerRegion(new TreeMap<>(Map.of("ams", 2, "ord", 1))));
        assertThat(spec.scale().orElseThrow().total()).isEqualTo(3);
        assertThat(spec.scale().orElseThrow().in(Optional.of("ord"))).isEqualTo(1);
        assertThat(spec.scale().orElseThrow().in(Optional.of("syd"))).isZero();

        assertThat(spec.withScale(Optional.of(new FleetScale.Total(4)))).satisfies(s -> {
            assertThat(s.count()).isEqualTo(4);
            assertThat(s.counts()).isNull();
        });
        assertThat(spec.withCount(null).scale()).as("by hand").isEmpty();
    }

    @Test
    void bothCountAndCountsNegativeCountsBadRegionsAndTooManyMachinesAreRefusedNamingTheField() {
        assertThatThrownBy(() -> new FleetSpec("web", null, null, Map.of(), null, 2, Map.of("ams", 1)))
                .isInstanceOf(ValidationException.class).hasMessageStartingWith("counts cannot be given with count");
        assertThatThrownBy(() -> perRegion(Map.of("ams", -1))).isInstanceOf(ValidationException.class)
                .hasMessage("counts.ams must be between 0 and 1000, got -1");
        var missing = new HashMap<String, Integer>();
        missing.put("ams", null);
        assertThatThrownBy(() -> perRegion(missing)).hasMessage("counts.ams is required");
        assertThatThrownBy(() -> perRegion(Map.of())).hasMessageStartingWith("counts must name at least one region");
        assertThatThrownBy(() -> perRegion(Map.of("eu west", 1))).hasMessageContaining("region name 'eu west'");
        assertThatThrownBy(() -> perRegion(Map.of("ams", 600, "ord", 600)))
                .hasMessage("counts must add up to at most 1000, got 1200");
    }
}
