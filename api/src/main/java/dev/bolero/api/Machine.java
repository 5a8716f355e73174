package dev.bolero.api;

import java.time.Instant;

/**
 * A machine as the API shows it.
 *
 * @param imageDigest the manifest digest the image reference resolved to; null until pulled
 * @param exitCode the workload's exit code once it exited; null otherwise
 * @param error why the machine failed; null otherwise
 * @param restartCount automatic restarts in a row under the restart policy (reset by a start by request)
 */
public record Machine(
        String id,
        String name,
        MachineState state,
        MachineConfig config,
        String imageDigest,
        Integer exitCode,
        String error,
        Instant createdAt,
        Instant updatedAt,
        int restartCount) {}
