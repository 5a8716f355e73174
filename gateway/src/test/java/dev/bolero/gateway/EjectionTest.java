package dev.bolero.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

class EjectionTest {
    private static final OutlierPolicy POLICY = new OutlierPolicy(3, Duration.ofSeconds(5), Duration.ofSeconds(20));
    private static final long SECOND = 1_000_000_000L;

    @Property
    void fewerFailuresInARowThanThePolicyAllowsNeverEject(@ForAll @IntRange(max = 2) int failures, @ForAll long start) {
        Ejection e = Ejection.NONE;
        for (int i = 0; i < failures; i++) {
            e = e.afterFailure(start + i, POLICY);
        }
        assertThat(e.ejected(start + failures)).isFalse();
    }

    @Property
    void aRunOfFailuresEjectsForTheBaseTimesTheEjectionsCappedAtTheMaximum(@ForAll @IntRange(min = 1, max = 8) int runs, @ForAll long start) {
        Ejection e = Ejection.NONE;
        long now = start;
        for (int run = 1; run <= runs; run++) {
            for (int i = 0; i < POLICY.consecutiveFailures(); i++) {
                e = e.afterFailure(now, POLICY);
            }
            long length = Math.min(5L * run, 20L) * SECOND;
            assertThat(e.ejected(now)).isTrue();
            assertThat(e.ejected(now + length - 1)).isTrue();
            assertThat(e.ejected(now + length)).isFalse();
            now += length;
        }
    }

    @Property
    void aSuccessEndsTheRunOfFailures(@ForAll("outcomes") List<Boolean> outcomes, @ForAll long start) {
        Ejection e = Ejection.NONE;
        int run = 0;
        long now = start;
        for (boolean failed : outcomes) {
            now += 100 * SECOND; // past any ejection
            e = failed ? e.afterFailure(now, POLICY) : e.afterSuccess(now);
            run = failed ? run + 1 : 0;
            assertThat(e.ejected(now)).isEqualTo(failed && run % POLICY.consecutiveFailures() == 0);
        }
    }

    @Provide
    Arbitrary<List<Boolean>> outcomes() {
        return Arbitraries.of(true, false).list().ofMaxSize(40);
    }

    @Property
    void failuresWhileEjectedChangeNothing(@ForAll @Size(max = 10) List<@IntRange(max = 4_999) Integer> millis) {
        Ejection e = Ejection.NONE;
        for (int i = 0; i < POLICY.consecutiveFailures(); i++) {
            e = e.afterFailure(0, POLICY);
        }
        Ejection ejected = e;
        for (int ms : millis) {
            e = e.afterFailure(ms * 1_000_000L, POLICY);
        }
        assertThat(e).isEqualTo(ejected);
    }
}
