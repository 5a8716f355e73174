package dev.bolero.network;

import java.util.List;
import java.util.concurrent.ConcurrentSkipListMap;

/** An {@link AllocationStore} that lives as long as the object: for tests and for nodes that keep no state. */
public final class InMemoryAllocationStore implements AllocationStore {
    private final ConcurrentSkipListMap<String, NamespaceAllocation> namespaces = new ConcurrentSkipListMap<>();
    private final ConcurrentSkipListMap<String, MachineAllocation> machines = new ConcurrentSkipListMap<>();

    @Override
    public List<NamespaceAllocation> namespaces() {
        return List.copyOf(namespaces.values());
    }

    @Override
    public List<MachineAllocation> machines() {
        return List.copyOf(machines.values());
    }

    @Override
    public void putNamespace(NamespaceAllocation namespace) {
        namespaces.put(namespace.namespace(), namespace);
    }

    @Override
    public void removeNamespace(String namespace) {
        namespaces.remove(namespace);
    }

    @Override
    public void putMachine(MachineAllocation machine) {
        machines.put(machine.machineId(), machine);
    }

    @Override
    public void removeMachine(String machineId) {
        machines.remove(machineId);
    }
}
