package dev.bolero.agent.machine;

import dev.bolero.agent.checks.CheckResult;
import dev.bolero.agent.checks.CheckTracker;
import dev.bolero.agent.checks.NetworkProbe;
import dev.bolero.api.ApiException;
import dev.bolero.api.ExecRequest;
import dev.bolero.api.ExecResult;
import dev.bolero.core.CheckStatus;
import dev.bolero.core.MachineSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Runs each machine's health checks ({@code config.checks}) from the start of its workload to the end of its run:
 * {@code http} and {@code tcp} checks from the node against the machine's address ({@link NetworkProbe}), {@code exec}
 * checks in the guest. Each check first runs after its grace period, then every interval (from the start of one run
 * to the next). Every change of a check's status is a machine event ({@code check_passing} / {@code check_critical});
 * when one check fails {@code restart.failures_before_restart} times in a row and {@code restart.on_check_failure}
 * holds, the run is ended ({@link Run#failCheck}) and restarted within {@code max_retries}.
 *
 * <p>The hook is shared by all runners: its per-run state is keyed by run, and only touched on that run's mailbox.
 * A restarted agent re-adopts running machines and starts their checks afresh (statuses {@code critical}, "not run
 * yet", until each check runs).
 */
final class HealthChecks implements MachineHook {
    private final NetworkProbe probe;
    private final Clock clock;
    private final Map<Run, CheckTracker> trackers = new ConcurrentHashMap<>();
    /** Each machine's latest results, for its API view; kept after the run ends until the next run or delete. */
    private final Map<String, List<CheckStatus>> published = new ConcurrentHashMap<>();

    HealthChecks(NetworkProbe probe, Clock clock) {
        this.probe = probe;
        this.clock = clock;
    }

    /** The latest results of machine {@code machineId}'s checks, in name order; empty without checks. */
    List<CheckStatus> statuses(String machineId) {
        return published.getOrDefault(machineId, List.of());
    }

    @Override
    public void spawned(Run run) {
        if (run.started()) {
            begin(run); // a re-adopted machine whose workload runs already
        } else if (!run.config().checks().isEmpty()) { // a new run: the last run's results no longer hold
            published.put(run.machineId(), new CheckTracker(run.config().checks(), run.config().restart(),
                    clock.instant()).statuses());
        }
    }

    @Override
    public void started(Run run) {
        begin(run);
    }

    @Override
    public void ended(Run run, RunEnd end) {
        trackers.remove(run);
    }

    @Override
    public void deleted(String machineId) {
        published.remove(machineId);
    }

    private void begin(Run run) {
        Map<String, MachineSpec.Check> checks = run.config().checks();
        if (checks.isEmpty()) return;
        var tracker = new CheckTracker(checks, run.config().restart(), clock.instant());
        if (trackers.putIfAbsent(run, tracker) != null) return;
        published.put(run.machineId(), tracker.statuses());
        checks.forEach((name, check) -> run.schedule(check.gracePeriod(), () -> launch(run, tracker, name, check)));
    }

    /** On the mailbox: starts one run of a check off the mailbox; its result comes back through {@link Run#post}. */
    private void launch(Run run, CheckTracker tracker, String name, MachineSpec.Check check) {
        if (run.stopRequested()) return;
        Instant startedAt = clock.instant();
        Optional<String> address = run.address();
        Optional<GuestCommands> guest = run.guest();
        Thread.ofVirtual().name("check-" + run.machineId() + "-" + name).start(() -> {
            CheckResult result = runCheck(check, address, guest);
            run.post(() -> record(run, tracker, name, check, result, startedAt));
        });
    }

    /** On the mailbox: records a result, restarts the machine when the check says so, or schedules the next run. */
    private void record(Run run, CheckTracker tracker, String name, MachineSpec.Check check, CheckResult result,
                        Instant startedAt) {
        if (run.stopRequested()) return;
        tracker.record(name, result, clock.instant()).ifPresent(s ->
                run.event("check_" + s.status().wireName(), "check " + name + ": " + s.output()));
        published.put(run.machineId(), tracker.statuses());
        Optional<String> cause = tracker.restartCause();
        if (cause.isPresent()) {
            String output = tracker.statuses().stream().filter(s -> s.name().equals(cause.get())).findFirst()
                    .map(CheckStatus::output).orElse("");
            run.failCheck("check " + cause.get() + " failing: " + output);
            return;
        }
        Duration elapsed = Duration.between(startedAt, clock.instant());
        Duration next = check.interval().minus(elapsed);
        run.schedule(next.isNegative() ? Duration.ZERO : next, () -> launch(run, tracker, name, check));
    }

    /** Runs {@code check} once, off the mailbox. */
    private CheckResult runCheck(MachineSpec.Check check, Optional<String> address, Optional<GuestCommands> guest) {
        try {
            if (check.type() != MachineSpec.Check.Type.EXEC) {
                return address.isEmpty() ? new CheckResult(false, "the machine has no address on this node")
                        : probe.run(check, address.get());
            }
            if (guest.isEmpty()) return new CheckResult(false, "the guest is not connected");
            ExecResult r = guest.get().exec(new ExecRequest(check.command(), null, null, null, null,
                    Math.toIntExact(check.timeout().toSeconds())));
            String output = (r.stdout() + r.stderr()).strip();
            if (r.timedOut()) return new CheckResult(false, "no exit within " + check.timeout().toSeconds() + " s");
            return new CheckResult(r.exitCode() == 0, "exit " + r.exitCode() + (output.isEmpty() ? "" : ": " + output));
        } catch (ApiException e) {
            return new CheckResult(false, e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new CheckResult(false, "interrupted");
        }
    }
}
