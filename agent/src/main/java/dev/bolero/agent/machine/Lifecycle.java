package dev.bolero.agent.machine;

import dev.bolero.api.ApiException;
import dev.bolero.core.MachineState;

/**
 * The machine state machine: which requests each state accepts and which state changes are legal. Every change of
 * a stored machine's state goes through {@link #checkTransition}; every request through {@link #require}.
 *
 * <pre>
 * created ─start→ starting ─workload up→ running ─stop→ stopping
 *                     │                      │            │
 *                     └──────────────────────┴────────────┴─→ stopped | failed ─start→ starting
 * running ─suspend→ suspended ─start→ starting (resumes from its snapshot, or boots cold) ; suspended ─stop→ stopped
 * any state ─delete→ destroyed (starting/running/stopping only with force)
 * </pre>
 */
final class Lifecycle {
    /** What an API request asks of a machine. */
    enum Request {
        START("start"),
        STOP("stop"),
        DELETE("delete"),
        EXEC("exec in"),
        SUSPEND("suspend"),
        FORK("fork");

        private final String verb;

        Request(String verb) {
            this.verb = verb;
        }
    }

    private Lifecycle() {}

    /** Whether a machine in {@code state} accepts {@code request} ({@code DELETE}: without force). */
    static boolean accepts(MachineState state, Request request) {
        return switch (state) {
            case CREATED, STOPPED, FAILED -> request == Request.START || request == Request.DELETE;
            case STARTING -> request == Request.STOP;
            case RUNNING -> request == Request.STOP || request == Request.EXEC || request == Request.SUSPEND
                    || request == Request.FORK;
            case STOPPING -> request == Request.STOP; // idempotent: the stop already under way continues
            case SUSPENDED -> request == Request.START || request == Request.STOP || request == Request.DELETE;
            case DESTROYED -> false;
        };
    }

    /**
     * @throws ApiException {@code conflict} naming the machine's state when it does not accept {@code request}
     */
    static void require(String id, MachineState state, Request request) {
        if (!accepts(state, request)) {
            String hint = request == Request.DELETE ? " (stop it first, or delete with ?force=true)" : "";
            throw ApiException.conflict(request.verb + " machine " + id + ": it is " + state.wireName() + hint);
        }
    }

    /** Whether a stored machine may move from {@code from} to {@code to} (staying put is always legal). */
    static boolean canMove(MachineState from, MachineState to) {
        if (from == to) return true;
        return switch (from) {
            case CREATED, STOPPED, FAILED -> to == MachineState.STARTING;
            case STARTING -> to == MachineState.RUNNING || to == MachineState.STOPPING || ended(to);
            case RUNNING -> to == MachineState.STOPPING || to == MachineState.SUSPENDED || ended(to);
            case STOPPING -> ended(to);
            case SUSPENDED -> to == MachineState.STARTING || to == MachineState.STOPPED;
            case DESTROYED -> false;
        };
    }

    /** @throws IllegalStateException when the change is not legal: a bug in the agent, not a bad request */
    static void checkTransition(String id, MachineState from, MachineState to) {
        if (!canMove(from, to)) {
            throw new IllegalStateException("machine " + id + ": illegal transition " + from.wireName() + " -> "
                    + to.wireName());
        }
    }

    /** Whether a machine in {@code state} has a run under way (a VMM, or one being prepared). */
    static boolean active(MachineState state) {
        return switch (state) {
            case STARTING, RUNNING, STOPPING -> true;
            case CREATED, STOPPED, FAILED, SUSPENDED, DESTROYED -> false;
        };
    }

    /**
     * Whether a machine in {@code state} holds its share of the node (vCPUs, memory): an active one, and a suspended
     * one, which must be able to resume.
     */
    static boolean reservesCapacity(MachineState state) {
        return active(state) || state == MachineState.SUSPENDED;
    }

    private static boolean ended(MachineState s) {
        return s == MachineState.STOPPED || s == MachineState.FAILED;
    }
}
