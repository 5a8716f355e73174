package dev.bolero.agent.machine;

import dev.bolero.core.MachineState;
import java.util.Objects;
import java.util.OptionalInt;

/**
 * How one run of a machine ended.
 *
 * @param state {@code stopped} or {@code failed}
 * @param reason why, as events show it
 * @param exitCode the workload's exit code when it reported one
 * @param detail the explanation kept as the machine's error when it failed
 */
record RunEnd(MachineState state, Reason reason, OptionalInt exitCode, String detail) {
    RunEnd {
        Objects.requireNonNull(state, "state");
        Objects.requireNonNull(reason, "reason");
        Objects.requireNonNull(exitCode, "exitCode");
        Objects.requireNonNull(detail, "detail");
        if (state != MachineState.STOPPED && state != MachineState.FAILED) {
            throw new IllegalArgumentException("a run ends stopped or failed, not " + state.wireName());
        }
    }

    /** The closed set of reasons a run ends. */
    enum Reason {
        EXITED("exited"),
        STOPPED_BY_REQUEST("stopped by request"),
        BOOT_TIMEOUT("boot timeout"),
        OOM("oom"),
        VMM_CRASHED("vmm crashed"),
        /** The guest's kernel panicked (its console says so) and the VMM exited. */
        KERNEL_PANIC("kernel panic"),
        START_FAILED("start failed"),
        /**
         * The guest broke its control channel (a frame the protocol does not allow, or it stopped reading the
         * channel) and its VMM was stopped.
         */
        GUEST_CHANNEL_BROKEN("guest channel broken"),
        CHECK_FAILED("check failed"),
        LOST("lost"),
        /** Not recorded: the run ended in a suspend (the machine is {@code suspended}); hooks hear it. */
        SUSPENDED("suspended");

        final String wire;

        Reason(String wire) {
            this.wire = wire;
        }
    }

    /** Whether a restart policy of {@code on-failure} counts this end as a failure. */
    boolean failure() {
        return state == MachineState.FAILED || exitCode.orElse(0) != 0;
    }

    static RunEnd exited(Reason reason, int code) {
        return new RunEnd(MachineState.STOPPED, reason, OptionalInt.of(code), "");
    }

    static RunEnd stoppedByRequest() {
        return new RunEnd(MachineState.STOPPED, Reason.STOPPED_BY_REQUEST, OptionalInt.empty(), "");
    }

    /** The run's VMM ended in a suspend: what hooks hear (the machine itself is {@code suspended}). */
    static RunEnd suspended() {
        return new RunEnd(MachineState.STOPPED, Reason.SUSPENDED, OptionalInt.empty(), "");
    }

    static RunEnd failed(Reason reason, String detail) {
        return new RunEnd(MachineState.FAILED, reason, OptionalInt.empty(), detail);
    }
}
