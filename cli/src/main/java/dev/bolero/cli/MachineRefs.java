package dev.bolero.cli;

import dev.bolero.api.wire.ClusterMachine;
import dev.bolero.client.BoleroClient;
import java.util.List;
import java.util.Set;
import java.util.function.Supplier;

/**
 * Resolves what a user typed for a machine — its id, a unique prefix of its id, or its name — to its id, as Docker
 * does: an exact id first, then an exact name, then a prefix shared by no other machine. The namespace's machines are
 * listed once, on the first reference that needs them.
 */
final class MachineRefs {
    private final Supplier<List<ClusterMachine>> lister;
    private List<ClusterMachine> machines;

    MachineRefs(Supplier<List<ClusterMachine>> lister) {
        this.lister = lister;
    }

    /** The references of {@code namespace}'s machines, through {@code client}. */
    static MachineRefs of(BoleroClient client, String namespace) {
        return new MachineRefs(() -> client.machines(namespace, null, Set.of()));
    }

    /**
     * The id of the machine {@code ref} names.
     *
     * @throws NoSuchMachineException when none matches
     * @throws IllegalArgumentException (a usage error) when several match, naming them
     */
    String id(String ref) {
        if (machines == null) machines = List.copyOf(lister.get());
        for (ClusterMachine m : machines) {
            if (m.id().equals(ref)) return m.id();
        }
        List<ClusterMachine> named = machines.stream().filter(m -> ref.equals(m.name())).toList();
        if (named.size() == 1) return named.getFirst().id();
        List<ClusterMachine> prefixed = named.isEmpty() && !ref.isEmpty()
                ? machines.stream().filter(m -> m.id().startsWith(ref)).toList() : named;
        if (prefixed.size() == 1) return prefixed.getFirst().id();
        if (prefixed.isEmpty()) throw new NoSuchMachineException("no machine has the id, id prefix or name '" + ref + "'");
        throw new IllegalArgumentException("'" + ref + "' matches " + prefixed.size() + " machines ("
                + String.join(", ", prefixed.stream().map(m -> m.id() + " " + m.name()).toList())
                + "): give more of the id");
    }

    /** No machine matches a reference (exit status 3, as the API's {@code not_found}). */
    static final class NoSuchMachineException extends RuntimeException {
        NoSuchMachineException(String message) {
            super(message);
        }
    }
}
