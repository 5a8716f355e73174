package dev.bolero.api;

import dev.bolero.core.MachineState;
import java.time.Instant;
import java.util.Objects;

/**
 * One entry of a machine's history ({@code GET /api/v1/machines/{id}/events}), oldest first.
 *
 * @param id increasing across the node
 * @param type what happened: {@code created}, {@code starting}, {@code running}, {@code stopping}, {@code ended}
 *     (a run ended; see {@code reason}), {@code restarting}, {@code re_adopted}, {@code lost}
 * @param state the machine's state after the event
 * @param reason for {@code ended} and {@code lost}: {@code exited}, {@code stopped by request}, {@code boot timeout},
 *     {@code oom}, {@code vmm crashed}, {@code kernel panic}, {@code start failed}, {@code guest channel broken},
 *     {@code agent restart}; null otherwise
 * @param exitCode the workload's exit code when the event carries one; null otherwise
 * @param detail a human-readable explanation; may be empty
 */
public record MachineEvent(
        long id, String type, MachineState state, String reason, Integer exitCode, String detail, Instant time) {
    public MachineEvent {
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(state, "state");
        Objects.requireNonNull(detail, "detail");
        Objects.requireNonNull(time, "time");
    }
}
