package dev.bolero.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;
import java.util.List;

class LeastOutstandingTest {
    @Property
    void picksAnEligibleMachineUnderTheHardLimitWithTheFewestInFlight(
            @ForAll @Size(max = 12) List<@IntRange(max = 30) Integer> loads,
            @ForAll @Size(12) List<Boolean> eligibility,
            @ForAll @IntRange(min = 1, max = 30) int hardLimit,
            @ForAll int start) {
        int[] outstanding = loads.stream().mapToInt(Integer::intValue).toArray();
        boolean[] eligible = new boolean[outstanding.length];
        for (int i = 0; i < eligible.length; i++) {
            eligible[i] = eligibility.get(i);
        }

        int picked = LeastOutstanding.pick(outstanding, eligible, hardLimit, start);

        boolean anyTakes = false;
        for (int i = 0; i < outstanding.length; i++) {
            anyTakes |= eligible[i] && outstanding[i] < hardLimit;
        }
        if (!anyTakes) {
            assertThat(picked).isEqualTo(LeastOutstanding.NONE);
            return;
        }
        assertThat(eligible[picked]).isTrue();
        assertThat(outstanding[picked]).isLessThan(hardLimit);
        for (int i = 0; i < outstanding.length; i++) {
            if (eligible[i]) {
                assertThat(outstanding[picked]).isLessThanOrEqualTo(outstanding[i]);
            }
        }
    }

    @Property
    void equalMachinesShareTheLoadAsTheStartRotates(@ForAll @IntRange(min = 1, max = 10) int machines) {
        int[] outstanding = new int[machines];
        boolean[] eligible = new boolean[machines];
        java.util.Arrays.fill(eligible, true);
        var seen = new java.util.HashSet<Integer>();
        for (int start = 0; start < machines; start++) {
            seen.add(LeastOutstanding.pick(outstanding, eligible, 1, start));
        }
        assertThat(seen).hasSize(machines);
    }
}
