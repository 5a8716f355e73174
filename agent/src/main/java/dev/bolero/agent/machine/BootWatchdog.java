package dev.bolero.agent.machine;

import java.time.Duration;

/**
 * The boot deadline: a guest that has not started its workload {@code deadline} after its VMM was spawned is powered
 * off, and the run fails with {@code boot timeout}. A re-adopted machine that had started is not watched.
 */
final class BootWatchdog implements MachineHook {
    private final Duration deadline;

    BootWatchdog(Duration deadline) {
        this.deadline = deadline;
    }

    @Override
    public void spawned(Run run) {
        if (run.started()) return;
        run.schedule(deadline, () -> {
            if (!run.started() && !run.stopRequested()) {
                run.powerOff("boot timeout: the guest did not start the workload within " + (deadline.toMillis() % 1000 == 0
                        ? deadline.toSeconds() + " s" : deadline.toMillis() + " ms"));
            }
        });
    }
}
