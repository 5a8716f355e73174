package dev.bolero.api.wire;

import dev.bolero.core.MachineSpec;
import dev.bolero.core.MachineState;
import java.util.List;

/**
 * One machine a node must have.
 *
 * @param namespace the tenant it belongs to: its network on the node
 * @param generation bumped by every change of {@code desiredState}, {@code config} or {@code stop}; the agent acts
 *     when it differs from the one it last applied
 * @param desiredState {@code running} (create if absent, start; resume if suspended), {@code stopped} (create if absent
 *     without starting; stop with {@code stop} if running or suspended) or {@code suspended} (suspend once running;
 *     create if absent without starting: a machine moved from another node while suspended boots cold at its start)
 * @param stop how to stop it when {@code desiredState} is {@code stopped}; null for its {@code config.stop}
 * @param namespaceIndex the namespace's index in the private network's address plan (its subnet on the node); null
 *     when the node takes no part in the private network
 * @param secrets the current values of the secrets {@code config.secrets} names (each once), decrypted by the server
 *     for this answer; one deleted since the machine was created is missing. The node keeps them in memory only.
 *     Empty (or absent on the wire) for a machine without secrets
 * @param fleet the fleet it belongs to (the {@code fleet} label of its metrics on the node); null from a server that
 *     does not say
 * @param forkOf for a fork's clone, the machine whose live state it starts from: when the node creates the clone while
 *     that machine runs there, it resumes a snapshot of it taken then (clones of one source in one answer share one);
 *     otherwise (absent on the wire for other machines) the clone is created as any machine and boots
 */
public record Assignment(String id, String namespace, String name, long generation, MachineState desiredState,
                         MachineSpec config, MachineSpec.Stop stop, Integer namespaceIndex, List<SecretValue> secrets,
                         String fleet, String forkOf) {

    public Assignment {
        secrets = secrets == null ? List.of() : List.copyOf(secrets);
    }
}
