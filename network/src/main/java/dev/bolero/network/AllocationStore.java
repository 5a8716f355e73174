package dev.bolero.network;

import java.util.List;

/**
 * Where a node keeps its network allocations so that they survive restarts (the agent implements it on its local
 * database). {@link NodeNetwork} is the only writer and calls it while holding its own lock, so an implementation
 * needs no locking of its own beyond being safe to call from any thread. Failures are reported as unchecked
 * exceptions, which {@link NodeNetwork} lets through.
 */
public interface AllocationStore {

    /** Every namespace that has a subnet on this node. */
    List<NamespaceAllocation> namespaces();

    /** Every machine that has an address on this node. */
    List<MachineAllocation> machines();

    /** Records a namespace, replacing the one with the same name. */
    void putNamespace(NamespaceAllocation namespace);

    /** Forgets a namespace; nothing happens if it is unknown. */
    void removeNamespace(String namespace);

    /** Records a machine, replacing the one with the same id. */
    void putMachine(MachineAllocation machine);

    /** Forgets a machine; nothing happens if it is unknown. */
    void removeMachine(String machineId);
}
