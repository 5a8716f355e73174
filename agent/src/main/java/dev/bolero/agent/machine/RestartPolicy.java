package dev.bolero.agent.machine;

import dev.bolero.core.MachineSpec;
import java.time.Duration;

/**
 * What follows the end of a machine's run: a restart after a backoff under the machine's restart policy, its deletion
 * when it is {@code auto_destroy}, or nothing. A pure function of the end, the config and the restarts so far.
 */
final class RestartPolicy {
    static final Duration FIRST_BACKOFF = Duration.ofSeconds(1);
    static final Duration MAX_BACKOFF = Duration.ofSeconds(30);

    /** The decision after one run. */
    sealed interface AfterRun {
        /** Start the machine again after {@code delay}, as automatic restart number {@code attempt}. */
        record Restart(int attempt, Duration delay) implements AfterRun {}

        /** Delete the machine ({@code auto_destroy}). */
        record Destroy() implements AfterRun {}

        /** Leave it stopped or failed. */
        record Rest() implements AfterRun {}
    }

    private RestartPolicy() {}

    /**
     * The decision after a run that ended with {@code end}. A stop by request is never restarted; an {@code auto_destroy}
     * machine is deleted only once its policy gives up.
     */
    static AfterRun after(RunEnd end, MachineSpec config, int restartsSoFar) {
        boolean byRequest = end.reason() == RunEnd.Reason.STOPPED_BY_REQUEST;
        if (!byRequest && config.restart().restarts(end.failure(), restartsSoFar)) {
            return new AfterRun.Restart(restartsSoFar + 1, backoff(restartsSoFar));
        }
        return config.autoDestroy() ? new AfterRun.Destroy() : new AfterRun.Rest();
    }

    /** The delay before restart {@code restartsSoFar + 1}: 1 s doubling, at most 30 s. */
    static Duration backoff(int restartsSoFar) {
        long ms = FIRST_BACKOFF.toMillis() << Math.min(restartsSoFar, 16);
        return Duration.ofMillis(Math.min(ms, MAX_BACKOFF.toMillis()));
    }
}
