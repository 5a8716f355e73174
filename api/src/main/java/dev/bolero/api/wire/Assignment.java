package dev.bolero.api.wire;

import dev.bolero.api.MachineConfig;
import dev.bolero.api.StopRequest;

/**
 * One machine a node must have.
 *
 * @param generation bumped by every change of {@code desiredState}, {@code config} or {@code stop}; the agent acts
 *     when it differs from the one it last applied
 * @param desiredState {@code running} (create if absent, start) or {@code stopped} (create if absent without starting;
 *     stop with {@code stop} if running)
 * @param stop how to stop it when {@code desiredState} is {@code stopped}; null for the default (SIGTERM, 10 s)
 */
public record Assignment(String id, String namespace, String name, long generation, String desiredState,
                         MachineConfig config, StopRequest stop) {}
