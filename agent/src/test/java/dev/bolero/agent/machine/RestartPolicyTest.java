package dev.bolero.agent.machine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bolero.core.MachineSpec;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class RestartPolicyTest {
    private static final List<RunEnd> ENDS = List.of(
            RunEnd.exited(RunEnd.Reason.EXITED, 0),
            RunEnd.exited(RunEnd.Reason.EXITED, 3),
            RunEnd.exited(RunEnd.Reason.OOM, 137),
            RunEnd.exited(RunEnd.Reason.STOPPED_BY_REQUEST, 143),
            RunEnd.stoppedByRequest(),
            RunEnd.failed(RunEnd.Reason.BOOT_TIMEOUT, "boot timeout"),
            RunEnd.failed(RunEnd.Reason.VMM_CRASHED, "crashed"),
            RunEnd.failed(RunEnd.Reason.START_FAILED, "no image"),
            RunEnd.failed(RunEnd.Reason.LOST, "lost"));

    @Test
    void every_policy_end_and_count_gives_the_documented_decision() {
        for (String policy : MachineSpec.Restart.POLICIES) {
            for (Integer max : new Integer[] {null, 0, 2}) {
                for (boolean autoDestroy : new boolean[] {false, true}) {
                    MachineSpec config = MachineSpec.builder("app:1")
                            .restart(new MachineSpec.Restart(policy, max)).autoDestroy(autoDestroy).build();
                    for (RunEnd end : ENDS) {
                        for (int count = 0; count <= 3; count++) {
                            boolean byRequest = end.reason() == RunEnd.Reason.STOPPED_BY_REQUEST;
                            boolean failed = end.state() == dev.bolero.core.MachineState.FAILED
                                    || end.exitCode().orElse(0) != 0;
                            boolean wanted = policy.equals("always") || policy.equals("on-failure") && failed;
                            boolean restarts = !byRequest && wanted && (max == null || count < max);
                            RestartPolicy.AfterRun expected = restarts
                                    ? new RestartPolicy.AfterRun.Restart(count + 1, RestartPolicy.backoff(count))
                                    : autoDestroy ? new RestartPolicy.AfterRun.Destroy()
                                    : new RestartPolicy.AfterRun.Rest();
                            assertThat(RestartPolicy.after(end, config, count))
                                    .as("%s max %s auto_destroy %s, %s after %d restarts", policy, max, autoDestroy,
                                            end, count)
                                    .isEqualTo(expected);
                        }
                    }
                }
            }
        }
    }

    @Test
    void backoff_doubles_from_one_second_and_is_capped_at_thirty() {
        assertThat(List.of(0, 1, 2, 3, 4, 5, 6, 1000).stream().map(RestartPolicy::backoff).toList())
                .containsExactly(Duration.ofSeconds(1), Duration.ofSeconds(2), Duration.ofSeconds(4),
                        Duration.ofSeconds(8), Duration.ofSeconds(16), Duration.ofSeconds(30), Duration.ofSeconds(30),
                        Duration.ofSeconds(30));
    }
}
