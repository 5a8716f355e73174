package dev.bolero.agent.machine;

import dev.bolero.core.MachineSpec;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bolero.api.ApiException;
import dev.bolero.api.ErrorCode;
import dev.bolero.core.MachineState;
import org.junit.jupiter.api.Test;

class LifecycleTest {

    @Test
    void illegal_requests_are_conflicts_that_name_the_state() {
        assertThatThrownBy(() -> Lifecycle.require("m1", MachineState.RUNNING, Lifecycle.Request.START))
                .isInstanceOfSatisfying(ApiException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.CONFLICT))
                .hasMessage("start machine m1: it is running");
        assertThatThrownBy(() -> Lifecycle.require("m1", MachineState.STOPPED, Lifecycle.Request.STOP))
                .hasMessage("stop machine m1: it is stopped");
        assertThatThrownBy(() -> Lifecycle.require("m1", MachineState.DESTROYED, Lifecycle.Request.STOP))
                .hasMessage("stop machine m1: it is destroyed");
        assertThatThrownBy(() -> Lifecycle.require("m1", MachineState.STARTING, Lifecycle.Request.EXEC))
                .hasMessage("exec in machine m1: it is starting");
        assertThatThrownBy(() -> Lifecycle.require("m1", MachineState.RUNNING, Lifecycle.Request.DELETE))
                .hasMessageContaining("it is running (stop it first");
    }

    @Test
    void every_state_accepts_exactly_its_requests() {
        for (MachineState s : MachineState.values()) {
            for (Lifecycle.Request r : Lifecycle.Request.values()) {
                boolean expected = switch (r) {
                    case START, DELETE -> s == MachineState.CREATED || s == MachineState.STOPPED
                            || s == MachineState.FAILED || s == MachineState.SUSPENDED;
                    case STOP -> Lifecycle.active(s) || s == MachineState.SUSPENDED;
                    case EXEC, SUSPEND, FORK -> s == MachineState.RUNNING;
                };
                assertThat(Lifecycle.accepts(s, r)).as("%s accepts %s", s, r).isEqualTo(expected);
            }
        }
    }

    @Test
    void transitions_follow_the_table_and_destroyed_is_final() {
        assertThat(Lifecycle.canMove(MachineState.CREATED, MachineState.STARTING)).isTrue();
        assertThat(Lifecycle.canMove(MachineState.CREATED, MachineState.RUNNING)).isFalse();
        assertThat(Lifecycle.canMove(MachineState.STARTING, MachineState.FAILED)).isTrue();
        assertThat(Lifecycle.canMove(MachineState.RUNNING, MachineState.STARTING)).isFalse();
        assertThat(Lifecycle.canMove(MachineState.STOPPING, MachineState.RUNNING)).isFalse();
        assertThat(Lifecycle.canMove(MachineState.STOPPED, MachineState.STARTING)).isTrue();
        assertThat(Lifecycle.canMove(MachineState.RUNNING, MachineState.SUSPENDED)).isTrue();
        assertThat(Lifecycle.canMove(MachineState.SUSPENDED, MachineState.STARTING)).isTrue();
        assertThat(Lifecycle.canMove(MachineState.SUSPENDED, MachineState.RUNNING)).isFalse();
        assertThat(Lifecycle.canMove(MachineState.STARTING, MachineState.SUSPENDED)).isFalse();
        for (MachineState to : MachineState.values()) {
            assertThat(Lifecycle.canMove(MachineState.DESTROYED, to)).isEqualTo(to == MachineState.DESTROYED);
        }
        assertThatThrownBy(() -> Lifecycle.checkTransition("m1", MachineState.STOPPED, MachineState.RUNNING))
                .isInstanceOf(IllegalStateException.class)
                .hasMessage("machine m1: illegal transition stopped -> running");
    }

    @Test
    void a_suspended_machine_keeps_its_capacity_but_has_no_run() {
        assertThat(Lifecycle.active(MachineState.SUSPENDED)).isFalse();
        assertThat(Lifecycle.reservesCapacity(MachineState.SUSPENDED)).isTrue();
        assertThat(Lifecycle.reservesCapacity(MachineState.STOPPED)).isFalse();
    }

    @Test
    void restart_policies_decide_by_failure_and_retry_count() {
        assertThat(MachineSpec.Restart.NEVER.restarts(true, 0)).isFalse();
        assertThat(new MachineSpec.Restart("on-failure", null).restarts(false, 0)).isFalse();
        assertThat(new MachineSpec.Restart("on-failure", null).restarts(true, 500)).isTrue();
        assertThat(new MachineSpec.Restart("on-failure", 2).restarts(true, 2)).isFalse();
        assertThat(new MachineSpec.Restart("always", 1).restarts(false, 0)).isTrue();
        assertThatThrownBy(() -> MachineSpec.builder("x").restart(new MachineSpec.Restart("sometimes", null)).build())
                .hasMessage("config.restart.policy must be no, on-failure, always, got 'sometimes'");
    }
}
