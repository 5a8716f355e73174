package dev.bolero.agent.machine;

import static dev.bolero.agent.machine.RunnerFixture.spec;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bolero.api.ApiException;
import dev.bolero.api.ErrorCode;
import dev.bolero.api.ExecRequest;
import dev.bolero.api.Machine;
import dev.bolero.api.MachineEvent;
import dev.bolero.core.MachineSpec;
import dev.bolero.core.MachineState;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The runner's suspend and resume on a fake clock and a fake driver whose snapshots are real {@code Snapshot} files:
 * what a suspend leaves, what a start of a suspended machine does, and when it boots instead.
 */
class MachineRunnerSuspendTest {
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

    @Test
    void a_suspended_machine_keeps_its_guest_and_a_start_resumes_it_with_its_clock_set() throws Exception {
        String id = f.run(spec().build());
        f.await(id, MachineState.RUNNING);
        FakeDriver.FakeVm first = f.driver.lastVm();

        Machine suspended = f.service.suspend(id);

        assertThat(suspended.state()).isEqualTo(MachineState.SUSPENDED);
        assertThat(first.hostEnds()).containsExactly("suspend");
        assertThat(Files.exists(machineDir(id).resolve("snapshot/fake-state"))).isTrue();
        assertThat(f.eventTypes(id)).containsExactly("created", "starting", "running", "suspended");
        assertThat(f.clock.pendingDelays()).as("no timer outlives the run").isEmpty();

        Machine started = f.service.start(id);
        assertThat(started.state()).isEqualTo(MachineState.STARTING);
        f.await(id, MachineState.RUNNING);
        FakeDriver.FakeVm second = f.driver.lastVm();
        assertThat(f.driver.vms()).hasSize(2);
        assertThat(second.resumed()).as("the same guest goes on in a new VMM").isTrue();
        // A resumed machine runs at once; its clock is set when its guest's channel connects, on the conversation's
        // own thread.
        await().atMost(java.time.Duration.ofSeconds(10)).untilAsserted(() ->
                assertThat(second.guest.clocks()).as("the clock was set once").hasSize(1));
        assertThat(f.eventTypes(id)).containsExactly("created", "starting", "running", "suspended", "starting",
                "resumed", "running");
        assertThat(Files.exists(machineDir(id).resolve("snapshot"))).as("a used snapshot is removed").isFalse();

        f.service.stop(id, MachineSpec.Stop.AS_CONFIGURED);
        assertThat(f.await(id, MachineState.STOPPED).exitCode()).as("its end is reported as before").isEqualTo(143);
    }

    @Test
    void a_snapshot_whose_image_drive_changed_is_discarded_with_the_reason_and_the_machine_boots() throws Exception {
        String id = f.run(spec().build());
        f.await(id, MachineState.RUNNING);
        f.service.suspend(id);
        Files.setLastModifiedTime(dir.resolve("rootfs.ext4"), FileTime.from(Instant.now().plusSeconds(60)));

        f.service.start(id);
        f.await(id, MachineState.RUNNING);

        assertThat(f.driver.lastVm().resumed()).isFalse();
        MachineEvent discarded = f.service.events(id).stream().filter(e -> e.type().equals("snapshot_discarded"))
                .findFirst().orElseThrow();
        assertThat(discarded.detail()).startsWith("booted instead of resuming: base drive changed (was ");
        assertThat(Files.exists(machineDir(id).resolve("snapshot"))).isFalse();
    }

    @Test
    void a_suspended_machine_stays_suspended_across_an_agent_restart_and_resumes_after_it() throws Exception {
        String id = f.run(spec().build());
        f.await(id, MachineState.RUNNING);
        f.service.suspend(id);
        f.service.close();

        MachineService restarted = f.newService();
        restarted.recover();
        assertThat(restarted.get(id).state()).isEqualTo(MachineState.SUSPENDED);
        restarted.start(id);
        restarted.await(id, java.util.EnumSet.of(MachineState.RUNNING), java.time.Duration.ofSeconds(20));
        assertThat(f.driver.lastVm().resumed()).isTrue();
        restarted.close();
    }

    @Test
    void only_a_running_machine_suspends_and_a_suspended_one_runs_no_exec() throws Exception {
        String id = f.run(spec().build());
        f.await(id, MachineState.RUNNING);
        f.service.suspend(id);

        assertThatThrownBy(() -> f.service.suspend(id)).isInstanceOfSatisfying(ApiException.class,
                e -> assertThat(e.code()).isEqualTo(ErrorCode.CONFLICT)).hasMessage(
                "suspend machine " + id + ": it is suspended");
        assertThatThrownBy(() -> f.service.exec(id, new ExecRequest(List.of("true"), null, null, null, null, null)))
                .hasMessage("exec in machine " + id + ": it is suspended");
    }

    @Test
    void a_stop_discards_the_snapshot_and_a_delete_removes_the_machines_files() throws Exception {
        String id = f.run(spec().build());
        f.await(id, MachineState.RUNNING);
        f.service.suspend(id);

        assertThat(f.service.stop(id, MachineSpec.Stop.AS_CONFIGURED).state()).isEqualTo(MachineState.STOPPED);
        assertThat(Files.exists(machineDir(id).resolve("snapshot"))).isFalse();
        assertThat(f.eventTypes(id)).endsWith("suspended", "snapshot_discarded", "ended");

        f.service.start(id);
        f.await(id, MachineState.RUNNING);
        assertThat(f.driver.lastVm().resumed()).as("a stopped machine boots").isFalse();
        f.service.suspend(id);
        f.service.delete(id, false);
        assertThat(Files.exists(machineDir(id))).isFalse();
    }

    private Path machineDir(String id) {
        return dir.resolve("machines").resolve(id);
    }
}
