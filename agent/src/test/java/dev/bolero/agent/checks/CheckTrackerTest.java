package dev.bolero.agent.checks;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bolero.core.CheckStatus;
import dev.bolero.core.MachineSpec;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;

class CheckTrackerTest {
    private static final Instant T0 = Instant.parse("2026-12-02T10:00:00Z");
    private static final Map<String, MachineSpec.Check> CHECKS = Map.of("alive", MachineSpec.Check.tcp(80),
            "health", MachineSpec.Check.http(80, "/health"));

    @Test
    void everyCheckStartsCriticalAndTheMachineIsHealthyOnlyWhenAllPass() {
        var tracker = new CheckTracker(CHECKS, MachineSpec.Restart.NEVER, T0);

        assertThat(tracker.statuses()).extracting(CheckStatus::name).containsExactly("alive", "health");
        assertThat(tracker.statuses()).allSatisfy(s -> {
            assertThat(s.status()).isEqualTo(CheckStatus.Status.CRITICAL);
            assertThat(s.output()).isEqualTo(CheckTracker.NOT_RUN);
        });
        assertThat(tracker.healthy()).isFalse();
        tracker.record("alive", CheckResult.pass("connected"), T0.plusSeconds(1));
        assertThat(tracker.healthy()).isFalse();
        tracker.record("health", CheckResult.pass("HTTP 200"), T0.plusSeconds(1));
        assertThat(tracker.healthy()).isTrue();
        assertThat(new CheckTracker(Map.of(), MachineSpec.Restart.NEVER, T0).healthy()).isTrue();
    }

    @Test
    void onlyChangesAreReturnedAndTheyCarryTheirTime() {
        var tracker = new CheckTracker(CHECKS, MachineSpec.Restart.NEVER, T0);

        assertThat(tracker.record("health", CheckResult.fail("HTTP 503"), T0.plusSeconds(1)))
                .as("the first run is a change even when it fails").hasValueSatisfying(s -> {
                    assertThat(s.status()).isEqualTo(CheckStatus.Status.CRITICAL);
                    assertThat(s.output()).isEqualTo("HTTP 503");
                });
        assertThat(tracker.record("health", CheckResult.fail("HTTP 500"), T0.plusSeconds(2))).isEmpty();
        assertThat(tracker.statuses().get(1).output()).as("the output follows every run").isEqualTo("HTTP 500");
        assertThat(tracker.statuses().get(1).updatedAt()).as("the time is the change's").isEqualTo(T0.plusSeconds(1));
        assertThat(tracker.record("health", CheckResult.pass("HTTP 200"), T0.plusSeconds(3)))
                .hasValueSatisfying(s -> assertThat(s.updatedAt()).isEqualTo(T0.plusSeconds(3)));
        assertThatThrownBy(() -> tracker.record("nope", CheckResult.pass(""), T0))
                .hasMessage("record a check result: no check 'nope'");
    }

    @Test
    void consecutiveFailuresOfOneCheckRestartAtTheThresholdAndAPassResetsThem() {
        var tracker = new CheckTracker(CHECKS, new MachineSpec.Restart("no", 5, true, 2), T0);

        tracker.record("health", CheckResult.fail("HTTP 503"), T0);
        tracker.record("alive", CheckResult.fail("refused"), T0);
        assertThat(tracker.restartCause()).as("one failure each is below 2 in a row").isEmpty();
        tracker.record("health", CheckResult.pass("HTTP 200"), T0);
        tracker.record("health", CheckResult.fail("HTTP 503"), T0);
        assertThat(tracker.restartCause()).as("a pass resets the count").isEmpty();
        tracker.record("health", CheckResult.fail("HTTP 503"), T0);
        assertThat(tracker.restartCause()).contains("health");
    }

    @Test
    void checksDoNotRestartWhenTheMachineSaysNot() {
        var tracker = new CheckTracker(CHECKS, new MachineSpec.Restart("always", null, false, 1), T0);

        tracker.record("alive", CheckResult.fail("refused"), T0);
        tracker.record("alive", CheckResult.fail("refused"), T0);

        assertThat(tracker.restartCause()).isEmpty();
    }
}
