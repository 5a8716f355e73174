package dev.bolero.api.wire;

import dev.bolero.core.MachineSpec;
import dev.bolero.core.MachineState;

/**
 * One machine a node must have.
 *
 * @param namespace the tenant it belongs to: its network on the node
 * @param generation bumped by every change of {@code desiredState}, {@code config} or {@code stop}; the agent acts
 *     when it differs from the one it last applied
 * @param desiredState {@code running} (create if absent, start) or {@code stopped} (create if absent without starting;
 *     stop with {@code stop} if running)
 * @param stop how to stop it when {@code desiredState} is {@code stopped}; null for its {@code config.stop}
 * @param namespaceIndex the namespace's index in the private network's address plan (its subnet on the node); null
 *     when the node takes no part in the private network
 */
public record Assignment(String id, String namespace, String name, long generation, MachineState desiredState,
                         MachineSpec config, MachineSpec.Stop stop, Integer namespaceIndex) {}
