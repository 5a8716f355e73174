package dev.bolero.scheduler;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * An immutable view of the cluster at one state-store index: every node with its labels, drivers, capacity and
 * allocations.
 *
 * <p>Built once per index and shared by any number of scheduling calls. Construction lays the nodes out for ranking:
 * nodes with identical labels and drivers form a class whose constraints are checked once per request, and the
 * numbers ranking reads live in primitive arrays, ready nodes of a class next to each other. Scheduling never copies
 * or changes a snapshot. Classes pay off when labels have few distinct values; a label unique per node (a hostname)
 * makes every node its own class, which stays correct but checks labels per node.
 *
 * <p>{@link #withPlacements} derives the next snapshot from committed placements without laying the cluster out
 * again: it keeps this layout, so its classes' ready nodes are no longer fullest first. Ranking depends on no order
 * (only the pruning of blocks works less well), so it decides exactly as a snapshot built afresh would.
 */
public final class ClusterSnapshot {

    /** Nodes with identical labels and drivers: positions {@code [start, readyEnd)} are ready, the rest not. */
    record NodeClass(Map<String, String> labels, Set<Driver> drivers, int start, int readyEnd, int end,
                     Instant earliestReadyExpiry, int firstBlock, int endBlock) {}

    private record ClassKey(Map<String, String> labels, Set<Driver> drivers) {
        String canonical() {
            return new TreeMap<>(labels) + "|" + new TreeSet<>(drivers);
        }
    }

    private final long index;
    private final List<NodeView> nodes;
    /** For each position, the node's place in {@link #nodes}. */
    private final int[] rankById;
    private final Map<String, Integer> positionById;

    final NodeView[] views;
    final String[] ids;
    final int[] capCpu;
    final int[] usedCpu;
    final long[] capMem;
    final long[] usedMem;
    final double[] inverseCpu;
    final double[] inverseMem;
    final long[] idHash;
    final int[] classOf;
    final NodeClass[] classes;
    /** Per fleet, the positions of the nodes running its machines, and how many each. */
    final Map<String, FleetCounts> fleets;
    final SortedSet<String> regions;
    /** The host ports in use, by position. */
    final PortUse ports;
    /** Summaries of runs of ready nodes, {@link NodeClass#firstBlock()} to {@link NodeClass#endBlock()} per class. */
    final Blocks blocks;
    /** The block of each position, {@code -1} for nodes that are not ready. */
    final int[] blockOf;

    private ClusterSnapshot(long index, Collection<NodeView> input) {
        this.index = index;
        var byClass = new HashMap<ClassKey, List<NodeView>>();
        var regionNames = new TreeSet<String>();
        var seen = new HashMap<String, NodeView>();
        for (NodeView node : input) {
            if (seen.put(node.id(), node) != null) {
                throw new IllegalArgumentException("cluster snapshot " + index + ": duplicate node id " + node.id());
            }
            byClass.computeIfAbsent(new ClassKey(node.labels(), node.drivers()), k -> new ArrayList<>()).add(node);
            node.region().ifPresent(regionNames::add);
        }
        this.nodes = seen.values().stream().sorted(Comparator.comparing(NodeView::id)).toList();
        this.regions = java.util.Collections.unmodifiableSortedSet(regionNames);

        int n = nodes.size();
        rankById = new int[n];
        views = new NodeView[n];
        ids = new String[n];
        capCpu = new int[n];
        usedCpu = new int[n];
        capMem = new long[n];
        usedMem = new long[n];
        inverseCpu = new double[n];
        inverseMem = new double[n];
        idHash = new long[n];
        classOf = new int[n];
        positionById = new HashMap<>(n * 2);
        var fleetPositions = new HashMap<String, Map<Integer, Integer>>();

        var keys = byClass.keySet().stream().sorted(Comparator.comparing(ClassKey::canonical)).toList();
        classes = new NodeClass[keys.size()];
        // Ready nodes first, fullest first, so that blocks hold nodes of similar load and bounds prune well.
        Comparator<NodeView> readyFirst = Comparator.comparing((NodeView v) -> v.state() != NodeState.READY)
                .thenComparing(ClusterSnapshot::fill, Comparator.reverseOrder())
                .thenComparing(NodeView::id);
        var blockStarts = new ArrayList<Integer>();
        int position = 0;
        for (int c = 0; c < keys.size(); c++) {
            var members = byClass.get(keys.get(c)).stream().sorted(readyFirst).toList();
            int start = position;
            int readyEnd = start;
            Instant earliestExpiry = Instant.MAX;
            for (NodeView node : members) {
                if (node.state() == NodeState.READY) {
                    readyEnd = position + 1;
                    if (node.heartbeatExpires().isBefore(earliestExpiry)) {
                        earliestExpiry = node.heartbeatExpires();
                    }
                }
                lay(node, position, c, fleetPositions);
                position++;
            }
            int firstBlock = blockStarts.size();
            for (int b = start; b < readyEnd; b += Blocks.SIZE) {
                blockStarts.add(b);
            }
            classes[c] = new NodeClass(keys.get(c).labels(), keys.get(c).drivers(), start, readyEnd, position,
                    earliestExpiry, firstBlock, blockStarts.size());
        }
        var counts = new HashMap<String, FleetCounts>();
        fleetPositions.forEach((fleet, byPosition) -> counts.put(fleet, FleetCounts.of(byPosition)));
        fleets = Map.copyOf(counts);
        ports = PortUse.of(views);
        int[] blockStart = new int[blockStarts.size()];
        int[] blockEnd = new int[blockStarts.size()];
        for (var nodeClass : classes) {
            for (int b = nodeClass.firstBlock(); b < nodeClass.endBlock(); b++) {
                blockStart[b] = blockStarts.get(b);
                blockEnd[b] = Math.min(blockStart[b] + Blocks.SIZE, nodeClass.readyEnd());
            }
        }
        blocks = new Blocks(blockStart, blockEnd);
        for (int b = 0; b < blockStart.length; b++) {
            blocks.refresh(b, this, usedCpu, usedMem);
        }
        blockOf = new int[n];
        java.util.Arrays.fill(blockOf, -1);
        for (int b = 0; b < blockStart.length; b++) {
            java.util.Arrays.fill(blockOf, blockStart[b], blockEnd[b], b);
        }
        for (int r = 0; r < n; r++) {
            rankById[positionById.get(nodes.get(r).id())] = r;
        }
    }

    /** {@code base} at {@code index} with {@code occupancy}, its occupancy after placements, and the changed views. */
    private ClusterSnapshot(ClusterSnapshot base, long index, Occupancy occupancy, Map<Integer, NodeView> changed) {
        this.index = index;
        views = base.views.clone();
        var byId = base.nodes.toArray(NodeView[]::new);
        changed.forEach((p, view) -> {
            views[p] = view;
            byId[base.rankById[p]] = view;
        });
        nodes = java.util.Collections.unmodifiableList(java.util.Arrays.asList(byId));
        rankById = base.rankById;
        positionById = base.positionById;
        ids = base.ids;
        capCpu = base.capCpu;
        usedCpu = occupancy.usedCpu();
        capMem = base.capMem;
        usedMem = occupancy.usedMem();
        inverseCpu = base.inverseCpu;
        inverseMem = base.inverseMem;
        idHash = base.idHash;
        classOf = base.classOf;
        classes = base.classes;
        fleets = occupancy.fleets();
        regions = base.regions;
        ports = occupancy.ports();
        blocks = occupancy.blocks();
        blockOf = base.blockOf;
    }

    private static double fill(NodeView node) {
        return Blocks.fill(node.allocated().cpus(), Scoring.inverse(node.capacity().cpus()),
                node.allocated().memoryMb(), Scoring.inverse(node.capacity().memoryMb()));
    }

    private void lay(NodeView node, int p, int nodeClass, Map<String, Map<Integer, Integer>> fleetPositions) {
        views[p] = node;
        ids[p] = node.id();
        capCpu[p] = node.capacity().cpus();
        usedCpu[p] = node.allocated().cpus();
        capMem[p] = node.capacity().memoryMb();
        usedMem[p] = node.allocated().memoryMb();
        inverseCpu[p] = Scoring.inverse(capCpu[p]);
        inverseMem[p] = Scoring.inverse(capMem[p]);
        idHash[p] = Scoring.idHash(node.id());
        classOf[p] = nodeClass;
        positionById.put(node.id(), p);
        node.fleetMachines().forEach((fleet, count) ->
                fleetPositions.computeIfAbsent(fleet, f -> new HashMap<>()).put(p, count));
    }

    /**
     * Builds a snapshot of {@code nodes} at state-store {@code index}.
     *
     * @throws IllegalArgumentException when two nodes share an id
     */
    public static ClusterSnapshot of(long index, Collection<NodeView> nodes) {
        return new ClusterSnapshot(index, nodes);
    }

    /**
     * This snapshot at state-store {@code index} with {@code placements} committed: each placement's node counts its
     * request's resources, one more machine of its fleet and its host ports as in use. Scheduling on the result
     * decides as on {@link #of} with the nodes so changed; building it takes time in proportion to the placements
     * and their fleets' nodes, not to the cluster. This snapshot does not change.
     *
     * @throws IllegalArgumentException when a placement names a node this snapshot lacks
     */
    public ClusterSnapshot withPlacements(long index, List<Placement> placements) {
        var occupancy = new Occupancy(this);
        var changed = new HashMap<Integer, NodeView>();
        for (Placement placement : placements) {
            int p = position(placement.nodeId());
            if (p < 0) {
                throw new IllegalArgumentException("cluster snapshot " + this.index + ": placement of "
                        + placement.machineId() + " on unknown node " + placement.nodeId());
            }
            occupancy.add(p, placement.request());
            changed.put(p, changed.getOrDefault(p, views[p]).withMachine(placement.request()));
        }
        return new ClusterSnapshot(this, index, occupancy, changed);
    }

    /** The state-store index this snapshot was taken at. */
    public long index() {
        return index;
    }

    /** Every node, ordered by id. */
    public List<NodeView> nodes() {
        return nodes;
    }

    /** The node with this id, if the snapshot has it. */
    public Optional<NodeView> node(String id) {
        Integer p = positionById.get(id);
        return p == null ? Optional.empty() : Optional.of(views[p]);
    }

    /** The position of a node in the ranking arrays, or {@code -1}. */
    int position(String id) {
        return positionById.getOrDefault(id, -1);
    }
}
