package dev.bolero.agent.machine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.bolero.agent.checks.CheckTracker;
import dev.bolero.api.Machine;
import dev.bolero.api.MachineEvent;
import dev.bolero.core.CheckStatus;
import dev.bolero.core.MachineSpec;
import dev.bolero.core.MachineState;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Health checks in a machine's runner on a fake clock and a fake VMM: a check waits out its grace period, runs every
 * interval, shows its result on the machine, and after {@code failures_before_restart} failures in a row restarts the
 * machine even under policy {@code no}, within {@code max_retries}. (The fixture's machines have no network, so a tcp
 * check fails with "no address": the failing path; the probes themselves are tested against real sockets.)
 */
class HealthChecksTest {
    @TempDir
    Path dir;

    private RunnerFixture f;

    @BeforeEach
    void setUp() {
        f = new RunnerFixture(dir);
    }

    @AfterEach
    void tearDown() {
        f.close();
    }

    private List<MachineEvent> checkEvents(String id) {
        return f.service.events(id).stream().filter(e -> e.type().startsWith("check_")).toList();
    }

    @Test
    void aCheckFailingThreeTimesInARowRestartsTheMachineWithinItsRetries() throws Exception {
        String id = f.run(RunnerFixture.spec().restart(new MachineSpec.Restart("no", 1))
                .check("alive", MachineSpec.Check.tcp(8080).every(5, 1, 2)).build());
        Machine running = f.await(id, MachineState.RUNNING);
        assertThat(running.checks()).singleElement().satisfies(s -> {
            assertThat(s.status()).isEqualTo(CheckStatus.Status.CRITICAL);
            assertThat(s.output()).isEqualTo(CheckTracker.NOT_RUN);
        });
        await().until(() -> f.clock.pendingDelays().contains(Duration.ofSeconds(2)));

        f.clock.advance(Duration.ofSeconds(2)); // the grace period: the first run
        await().until(() -> checkEvents(id).size() == 1);
        assertThat(checkEvents(id).getFirst().detail()).isEqualTo("check alive: the machine has no address on this node");
        assertThat(f.service.get(id).checks().getFirst().output()).isEqualTo("the machine has no address on this node");
        await().until(() -> f.clock.pendingDelays().contains(Duration.ofSeconds(5)));
        f.clock.advance(Duration.ofSeconds(5));
        await().until(() -> f.clock.pendingDelays().contains(Duration.ofSeconds(5)));
        assertThat(f.service.get(id).state()).as("two failures: below the threshold").isEqualTo(MachineState.RUNNING);
        assertThat(checkEvents(id)).as("a status that stays critical is no new event").hasSize(1);

        f.clock.advance(Duration.ofSeconds(5)); // the third failure in a row
        await().until(() -> f.service.events(id).stream().anyMatch(e -> e.type().equals("restarting")));
        var failed = f.service.events(id).stream().filter(e -> "check failed".equals(e.reason())).findFirst();
        assertThat(failed).hasValueSatisfying(e -> assertThat(e.detail())
                .isEqualTo("check alive failing: the machine has no address on this node"));
        f.clock.advance(Duration.ofSeconds(1)); // the restart backoff
        Machine restarted = f.await(id, MachineState.RUNNING);
        assertThat(restarted.restartCount()).isEqualTo(1);
        assertThat(restarted.checks().getFirst().output()).as("a new run's checks start afresh")
                .isEqualTo(CheckTracker.NOT_RUN);
        assertThat(f.driver.vms()).hasSize(2);
    }

    @Test
    void checksDoNotRestartAMachineThatSaysNot() throws Exception {
        String id = f.run(RunnerFixture.spec().restart(new MachineSpec.Restart("always", null, false, 1))
                .check("alive", MachineSpec.Check.tcp(8080).every(5, 1, 0)).build());
        f.await(id, MachineState.RUNNING);
        await().until(() -> f.clock.pendingDelays().contains(Duration.ZERO) || !checkEvents(id).isEmpty());
        f.clock.advance(Duration.ZERO);
        for (int i = 0; i < 3; i++) {
            await().until(() -> f.clock.pendingDelays().contains(Duration.ofSeconds(5)));
            f.clock.advance(Duration.ofSeconds(5));
        }
        await().until(() -> f.clock.pendingDelays().contains(Duration.ofSeconds(5)));

        assertThat(f.service.get(id).state()).isEqualTo(MachineState.RUNNING);
        assertThat(f.driver.vms()).hasSize(1);
    }
}
