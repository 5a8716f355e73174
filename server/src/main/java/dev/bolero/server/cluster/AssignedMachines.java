package dev.bolero.server.cluster;

import dev.bolero.server.store.MachineRow;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The live machines assigned to each node as of the node's assignment index, and whether it then had no stream request
 * pending and no volume concerning it, kept in memory so that a poll answer need not read them again: {@code (node,
 * assignment index)} names one set, since every write that changes what a node must run, every new stream request and
 * every change that makes a volume, snapshot, snapshot copy or move concern a node stamps the node with its own state
 * index ({@code touchAssignments}; requests answered or expired, and moves ended, meanwhile only leave fewer). A poll that
 * finds no set for the index it read reads the rows and {@link #remember}s them; a placement commit that only added new
 * machines to a node whose kept set is the one it replaced {@link #advance}s it. Any other change simply leaves a set
 * behind the node's index, where no poll finds it, so several servers sharing a store and changes of leader need
 * nothing more. Thread-safe.
 */
final class AssignedMachines {
    private static final Comparator<MachineRow> BY_ID = Comparator.comparing(MachineRow::id);

    private final Map<String, Held> nodes = new ConcurrentHashMap<>();

    /**
     * A node's live machines by id order at assignment index {@code index}, with the sources of those that are a
     * fork's clones, by clone id; {@code streamless} when no stream request was pending for it at that index, and
     * {@code volumeless} when no volume concerned it then ({@code VolumeStore.concern}): neither changes as long as the
     * index stays.
     */
    record Held(long index, List<MachineRow> machines, Map<String, String> forks, boolean streamless,
                boolean volumeless) {
        Held {
            machines = List.copyOf(machines);
            forks = Map.copyOf(forks);
        }
    }

    /** The set kept for node {@code nodeId} at assignment index {@code index}, if it is the one kept. */
    Optional<Held> at(String nodeId, long index) {
        Held held = nodes.get(nodeId);
        return held != null && held.index() == index ? Optional.of(held) : Optional.empty();
    }

    /**
     * Keeps {@code held}, read for node {@code nodeId}, unless a set of a later index is kept already (a slower poll
     * read an older one).
     */
    void remember(String nodeId, Held held) {
        nodes.merge(nodeId, held, (old, read) -> read.index() >= old.index() ? read : old);
    }

    /**
     * Records that the commit of state index {@code index} assigned {@code created}, new machines, to node
     * {@code nodeId}, whose assignment index was {@code before}, and changed nothing else it runs; {@code forks} the
     * sources of those that are a fork's clones. The kept set moves to {@code index} when it is the one of
     * {@code before}; any other is dropped. A new machine that mounts volumes attached them to the node in that commit:
     * the moved set no longer says the node has none.
     */
    void advance(String nodeId, long before, long index, List<MachineRow> created, Map<String, String> forks) {
        nodes.computeIfPresent(nodeId, (id, held) -> {
            if (held.index() != before) return null;
            var machines = new ArrayList<>(held.machines());
            machines.addAll(created);
            machines.sort(BY_ID);
            var sources = new HashMap<>(held.forks());
            sources.putAll(forks);
            boolean volumeless = held.volumeless() && created.stream().allMatch(m -> m.spec().mounts().isEmpty());
            return new Held(index, machines, sources, held.streamless(), volumeless); // nor any stream request
        });
    }

    /** Drops what is kept for node {@code nodeId} (it was removed). */
    void forget(String nodeId) {
        nodes.remove(nodeId);
    }
}
