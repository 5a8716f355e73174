package dev.bolero.agent.machine;

import static dev.bolero.agent.machine.RunnerFixture.spec;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.bolero.api.ApiException;
import dev.bolero.api.ErrorCode;
import dev.bolero.api.ExecRequest;
import dev.bolero.api.Machine;
import dev.bolero.api.MachineEvent;
import dev.bolero.core.MachineSpec;
import dev.bolero.core.MachineState;
import dev.bolero.runtime.guest.FakeGuest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A machine's runner on a fake clock and a fake VMM driver: restart backoff, the boot deadline, the stop timeout,
 * auto_destroy and the order of commands that race (a stop during a start, a delete during a restart backoff, …). Time
 * moves only when a test advances the clock; the waits below are for the runner's threads, never for time to pass.
 */
class MachineRunnerTest {
    private static final Duration MS = Duration.ofMillis(1);

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
    void a_running_workload_stops_on_its_stop_signal_and_the_end_is_recorded() throws Exception {
        String id = f.run(spec().build());
        f.await(id, MachineState.RUNNING);

        assertThat(f.service.stop(id, MachineSpec.Stop.AS_CONFIGURED).state()).isEqualTo(MachineState.STOPPING);
        Machine stopped = f.await(id, MachineState.STOPPED);

        FakeDriver.FakeVm vm = f.driver.lastVm();
        assertThat(vm.guest.signals()).containsExactly(15);
        assertThat(stopped.exitCode()).isEqualTo(143);
        assertThat(vm.hostEnds()).as("the guest powered off after the ACK").isEmpty();
        assertThat(f.eventTypes(id)).containsExactly("created", "starting", "running", "stopping", "ended");
        assertThat(lastEvent(id).reason()).isEqualTo("stopped by request");
        assertThat(f.clock.pendingDelays()).as("the stop timeout is cancelled").isEmpty();
    }

    @Test
    void every_change_of_state_and_the_deletion_are_told_to_the_state_listener_as_they_happen() throws Exception {
        var told = new AtomicInteger();
        f.service.onStateChange(told::incrementAndGet);
        String id = f.run(spec().build());
        f.await(id, MachineState.RUNNING);
        // starting, then running once the workload started (what a cluster node reports at once)
        await().atMost(Duration.ofSeconds(10)).until(() -> told.get() == 2);

        f.service.stop(id, MachineSpec.Stop.AS_CONFIGURED);
        f.await(id, MachineState.STOPPED);
        await().atMost(Duration.ofSeconds(10)).until(() -> told.get() == 4);  // stopping, the end (stopped)

        f.service.delete(id, false);
        await().atMost(Duration.ofSeconds(10)).until(() -> told.get() == 5);

        f.service.onStateChange(() -> { });
        String other = f.run(spec().build());
        f.await(other, MachineState.RUNNING);
        assertThat(told.get()).as("a replaced listener is told nothing more").isEqualTo(5);
    }

    @Test
    void a_workload_that_ignores_its_stop_signal_is_powered_off_when_the_stop_timeout_passes() throws Exception {
        f.driver.guests(FakeGuest::ignoringSignals);
        String id = f.run(spec().build());
        f.await(id, MachineState.RUNNING);
        FakeDriver.FakeVm vm = f.driver.lastVm();

        f.service.stop(id, new MachineSpec.Stop("SIGINT", 20));
        // the signal travels on the conversation's thread: received before the timeout may power the VM off
        await().atMost(Duration.ofSeconds(10)).until(() -> !vm.guest.signals().isEmpty());
        f.clock.advance(Duration.ofSeconds(20).minus(MS));
        assertThat(vm.isAlive()).isTrue();
        assertThat(f.service.get(id).state()).isEqualTo(MachineState.STOPPING);

        f.clock.advance(MS);
        Machine stopped = f.await(id, MachineState.STOPPED);
        assertThat(vm.guest.signals()).containsExactly(2);
        assertThat(vm.hostEnds()).containsExactly("stop");
        assertThat(stopped.exitCode()).as("the workload never exited").isNull();
        assertThat(lastEvent(id).reason()).isEqualTo("stopped by request");
    }

    @Test
    void a_vmm_still_up_ten_seconds_after_the_workload_ended_is_powered_off_and_the_exit_is_kept() throws Exception {
        f.driver.guests(g -> g.boot(FakeGuest.Boot.STARTS_AND_EXITS, 7).stayingUpAfterTheEnd());
        String id = f.run(spec().build());
        awaitTimers(RunnerFixture.BOOT_DEADLINE, MachineRunner.VMM_EXIT_AFTER_ACK);

        f.clock.advance(MachineRunner.VMM_EXIT_AFTER_ACK.minus(MS));
        assertThat(f.service.get(id).state()).as("the run ends with its VMM").isEqualTo(MachineState.RUNNING);
        f.clock.advance(MS);
        Machine stopped = f.await(id, MachineState.STOPPED);
        assertThat(stopped.exitCode()).isEqualTo(7);
        assertThat(lastEvent(id).reason()).isEqualTo("exited");
        assertThat(f.driver.lastVm().hostEnds()).containsExactly("stop");
    }

    @Test
    void a_guest_that_breaks_the_protocol_is_stopped_and_its_machine_fails_saying_what_it_sent() throws Exception {
        String id = f.run(spec().build());
        f.await(id, MachineState.RUNNING);
        FakeDriver.FakeVm vm = f.driver.lastVm();

        vm.guest.raw(new byte[] {(byte) 0xff, 0, 0, 0, 0});
        Machine failed = f.await(id, MachineState.FAILED);
        assertThat(failed.error()).isEqualTo("machine " + id
                + ": its guest broke the control channel: guest protocol: unknown frame type 0xff");
        assertThat(lastEvent(id).reason()).isEqualTo("guest channel broken");
        assertThat(vm.hostEnds()).as("stopped, not reconnected to").containsExactly("stop");
    }

    @Test
    void a_guest_that_misses_the_boot_deadline_is_powered_off_and_the_machine_fails() throws Exception {
        f.driver.guests(g -> g.boot(FakeGuest.Boot.HANGS, 0));
        String id = f.run(spec().build());
        awaitTimers(RunnerFixture.BOOT_DEADLINE);

        f.clock.advance(RunnerFixture.BOOT_DEADLINE.minus(MS));
        assertThat(f.service.get(id).state()).isEqualTo(MachineState.STARTING);
        assertThat(f.driver.lastVm().isAlive()).isTrue();

        f.clock.advance(MS);
        Machine failed = f.await(id, MachineState.FAILED);
        assertThat(failed.error()).isEqualTo("boot timeout: the guest did not start the workload within 30 s");
        assertThat(lastEvent(id).reason()).isEqualTo("boot timeout");
        assertThat(f.driver.lastVm().hostEnds()).containsExactly("stop");
    }

    @Test
    void a_boot_timeout_counts_as_a_failure_for_the_restart_policy() throws Exception {
        f.driver.guests(g -> g.boot(FakeGuest.Boot.HANGS, 0));
        String id = f.run(spec().restart(new MachineSpec.Restart("on-failure", 1)).build());
        awaitTimers(RunnerFixture.BOOT_DEADLINE);
        f.clock.advance(RunnerFixture.BOOT_DEADLINE);
        awaitTimers(Duration.ofSeconds(1));

        f.driver.guests(g -> { });
        f.clock.advance(Duration.ofSeconds(1));
        Machine running = f.await(id, MachineState.RUNNING);
        assertThat(running.restartCount()).isEqualTo(1);
        assertThat(f.driver.vms()).hasSize(2);
    }

    @Test
    void on_failure_restarts_after_1_2_and_4_seconds_and_gives_up_after_max_retries() throws Exception {
        f.driver.guests(g -> g.boot(FakeGuest.Boot.STARTS_AND_EXITS, 3));
        String id = f.run(spec().restart(new MachineSpec.Restart("on-failure", 3)).build());

        for (int restart = 1; restart <= 3; restart++) {
            Duration backoff = Duration.ofSeconds(1L << (restart - 1));
            awaitTimers(backoff);
            f.clock.advance(backoff.minus(MS));
            assertThat(f.driver.vms()).as("restart %d waits out %s", restart, backoff).hasSize(restart);
            f.clock.advance(MS);
            int vms = restart + 1;
            await().until(() -> f.driver.vms().size() == vms);
        }
        await().until(() -> f.eventTypes(id).stream().filter("ended"::equals).count() == 4);

        Machine m = f.service.get(id);
        assertThat(m.state()).isEqualTo(MachineState.STOPPED);
        assertThat(m.exitCode()).isEqualTo(3);
        assertThat(m.restartCount()).isEqualTo(3);
        assertThat(f.clock.pendingDelays()).as("no fourth restart").isEmpty();
        assertThat(f.service.events(id).stream().filter(e -> e.type().equals("restarting")).map(MachineEvent::detail))
                .containsExactly("restart 1 in 1000 ms (policy on-failure)", "restart 2 in 2000 ms (policy on-failure)",
                        "restart 3 in 4000 ms (policy on-failure)");
    }

    @Test
    void auto_destroy_deletes_the_machine_and_its_files_once_its_workload_exits() {
        f.driver.guests(g -> g.boot(FakeGuest.Boot.STARTS_AND_EXITS, 0));
        String id = f.run(spec().autoDestroy(true).build());

        await().until(() -> gone(id));
        assertThat(Files.exists(dir.resolve("machines").resolve(id))).isFalse();
        assertThat(f.driver.lastVm().isAlive()).isFalse();
    }

    @Test
    void auto_destroy_waits_until_the_restart_policy_gives_up() throws Exception {
        f.driver.guests(g -> g.boot(FakeGuest.Boot.STARTS_AND_EXITS, 1));
        String id = f.run(spec().autoDestroy(true).restart(new MachineSpec.Restart("on-failure", 1)).build());
        awaitTimers(Duration.ofSeconds(1));
        assertThat(f.service.get(id).state()).isEqualTo(MachineState.STOPPED);

        f.clock.advance(Duration.ofSeconds(1));
        await().until(() -> gone(id));
        assertThat(f.driver.vms()).hasSize(2);
    }

    @Test
    void a_stop_during_the_image_pull_ends_the_run_before_any_vmm_starts() throws Exception {
        CountDownLatch pull = f.holdPulls();
        String id = f.run(spec().build());
        assertThat(f.service.stop(id, MachineSpec.Stop.AS_CONFIGURED).state()).isEqualTo(MachineState.STOPPING);

        pull.countDown();
        f.await(id, MachineState.STOPPED);
        assertThat(f.driver.vms()).isEmpty();
        assertThat(lastEvent(id).reason()).isEqualTo("stopped by request");
    }

    @Test
    void a_stop_while_the_vmm_spawns_powers_it_off_as_soon_as_it_runs() throws Exception {
        CountDownLatch spawn = f.driver.holdStarts();
        String id = f.run(spec().build());
        await().until(() -> f.service.get(id).imageDigest() != null);
        f.service.stop(id, MachineSpec.Stop.AS_CONFIGURED);

        spawn.countDown();
        f.await(id, MachineState.STOPPED);
        assertThat(f.driver.lastVm().hostEnds()).containsExactly("stop");
        assertThat(lastEvent(id).reason()).isEqualTo("stopped by request");
    }

    @Test
    void a_delete_during_the_restart_backoff_cancels_the_restart() throws Exception {
        f.driver.guests(g -> g.boot(FakeGuest.Boot.STARTS_AND_EXITS, 3));
        String id = f.run(spec().restart(new MachineSpec.Restart("always", null)).build());
        awaitTimers(Duration.ofSeconds(1));

        f.service.delete(id, false);
        assertThat(f.clock.pendingDelays()).isEmpty();
        f.clock.advance(Duration.ofMinutes(1));
        assertThat(gone(id)).isTrue();
        assertThat(f.driver.vms()).hasSize(1);
    }

    @Test
    void a_stop_during_the_restart_backoff_cancels_the_restart_and_leaves_the_machine_as_it_is() throws Exception {
        f.driver.guests(g -> g.boot(FakeGuest.Boot.STARTS_AND_EXITS, 3));
        String id = f.run(spec().restart(new MachineSpec.Restart("always", null)).build());
        awaitTimers(Duration.ofSeconds(1));

        assertThat(f.service.stop(id, MachineSpec.Stop.AS_CONFIGURED).state()).isEqualTo(MachineState.STOPPED);
        assertThat(f.clock.pendingDelays()).isEmpty();
        assertThat(f.eventTypes(id).getLast()).isEqualTo("restart_cancelled");
        f.clock.advance(Duration.ofMinutes(1));
        assertThat(f.driver.vms()).hasSize(1);
        assertThatThrownBy(() -> f.service.stop(id, MachineSpec.Stop.AS_CONFIGURED))
                .hasMessage("stop machine " + id + ": it is stopped");
    }

    @Test
    void a_start_during_the_restart_backoff_starts_at_once_and_replaces_the_restart() throws Exception {
        f.driver.guests(g -> g.boot(FakeGuest.Boot.STARTS_AND_EXITS, 3));
        String id = f.run(spec().restart(new MachineSpec.Restart("on-failure", null)).build());
        awaitTimers(Duration.ofSeconds(1));

        f.driver.guests(g -> { });
        Machine starting = f.service.start(id);
        assertThat(starting.state()).isEqualTo(MachineState.STARTING);
        assertThat(starting.restartCount()).as("a start by request begins a new count").isZero();
        f.await(id, MachineState.RUNNING);
        assertThat(f.clock.pendingDelays()).as("the pending restart is gone").containsExactly(RunnerFixture.BOOT_DEADLINE);
        assertThat(f.driver.vms()).hasSize(2);
    }

    @Test
    void a_forced_delete_kills_a_running_vmm_and_removes_the_machine() throws Exception {
        String id = f.run(spec().build());
        f.await(id, MachineState.RUNNING);
        assertThatThrownBy(() -> f.service.delete(id, false))
                .hasMessage("delete machine " + id + ": it is running (stop it first, or delete with ?force=true)");

        f.service.delete(id, true);
        assertThat(gone(id)).isTrue();
        assertThat(f.driver.lastVm().hostEnds()).containsExactly("kill");
        assertThat(Files.exists(dir.resolve("machines").resolve(id))).isFalse();
    }

    @Test
    void a_delete_during_the_image_pull_waits_for_it_and_leaves_nothing() throws Exception {
        CountDownLatch pull = f.holdPulls();
        String id = f.run(spec().build());
        Thread delete = Thread.ofVirtual().start(() -> {
            try {
                f.service.delete(id, true);
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
        await().until(() -> f.service.get(id).state() == MachineState.STARTING && delete.isAlive());

        pull.countDown();
        delete.join();
        assertThat(gone(id)).isTrue();
        assertThat(f.driver.vms()).isEmpty();
    }

    @Test
    void exec_is_refused_naming_the_state_unless_the_machine_runs() {
        Machine m = f.service.create("m1", "m1", "default", spec().build());
        assertThatThrownBy(() -> f.service.exec(m.id(), new ExecRequest(List.of("true"), null, null, null, null, null)))
                .isInstanceOfSatisfying(ApiException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.CONFLICT))
                .hasMessage("exec in machine m1: it is created");
    }

    @Test
    void a_restarted_agent_re_adopts_a_running_vmm_and_ends_a_lost_one() throws Exception {
        String kept = f.run(spec().build());
        String lost = f.run(spec().build());
        f.await(kept, MachineState.RUNNING);
        f.await(lost, MachineState.RUNNING);
        f.service.close(); // the agent dies; the VMMs live on
        FakeDriver.FakeVm keptVm = f.driver.vms().stream()
                .filter(v -> v.handle().pid() == f.store.find(kept).orElseThrow().vmHandle().orElseThrow().pid())
                .findFirst().orElseThrow();
        f.driver.vms().stream().filter(v -> v != keptVm).forEach(FakeDriver.FakeVm::powerOff);

        MachineService next = f.newService();
        try {
            next.recover();
            assertThat(next.get(kept).state()).isEqualTo(MachineState.RUNNING);
            assertThat(next.events(kept).getLast().type()).isEqualTo("re_adopted");
            Machine failed = next.get(lost);
            assertThat(failed.state()).isEqualTo(MachineState.FAILED);
            assertThat(failed.error()).isEqualTo("its VMM exited while the agent was down");
            assertThat(f.driver.vms()).as("nothing restarted").hasSize(2);

            next.stop(kept, MachineSpec.Stop.AS_CONFIGURED);
            assertThat(next.await(kept, java.util.EnumSet.of(MachineState.STOPPED), Duration.ofSeconds(20))
                    .exitCode()).isEqualTo(143);
        } finally {
            next.close();
        }
    }

    @Test
    void a_stop_before_a_re_adopted_guest_reconnects_signals_it_once_it_does() throws Exception {
        String id = f.run(spec().build());
        f.await(id, MachineState.RUNNING);
        f.service.close();
        FakeDriver.FakeVm vm = f.driver.lastVm();
        vm.refusingControl = true; // the new agent cannot reach the guest yet

        MachineService next = f.newService();
        try {
            next.recover();
            assertThat(next.stop(id, MachineSpec.Stop.AS_CONFIGURED).state()).isEqualTo(MachineState.STOPPING);
            assertThat(vm.isAlive()).as("not powered off for want of a channel").isTrue();

            vm.refusingControl = false;
            Machine stopped = next.await(id, java.util.EnumSet.of(MachineState.STOPPED), Duration.ofSeconds(20));
            assertThat(stopped.exitCode()).as("the workload exited on the signal").isEqualTo(143);
            assertThat(vm.hostEnds()).isEmpty();
        } finally {
            next.close();
        }
    }

    /** Waits until the runner's timers are exactly those with {@code delays}. */
    private void awaitTimers(Duration... delays) {
        await().until(() -> f.clock.pendingDelays().equals(List.of(delays)));
    }

    private MachineEvent lastEvent(String id) {
        return f.service.events(id).getLast();
    }

    private boolean gone(String id) {
        try {
            f.service.get(id);
            return false;
        } catch (ApiException e) {
            return e.code() == ErrorCode.NOT_FOUND;
        }
    }
}
