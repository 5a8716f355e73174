package dev.bolero.scheduler;

import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

/** Builders for nodes and snapshots, in place of mocks. */
public final class Fixtures {

    /** The instant tests schedule at. */
    public static final Instant NOW = Instant.parse("2026-01-01T00:00:00Z");

    private Fixtures() {}

    /** A ready node in region {@code eu} with 16 vCPUs, 32768 MiB, nothing allocated, running every driver. */
    public static NodeBuilder node(String id) {
        return new NodeBuilder(id);
    }

    /** A snapshot at index 1 of these nodes. */
    public static ClusterSnapshot snapshot(NodeBuilder... nodes) {
        return ClusterSnapshot.of(1, java.util.Arrays.stream(nodes).map(NodeBuilder::build).toList());
    }

    /** Mutable builder of a {@link NodeView}; every setter returns the builder. */
    public static final class NodeBuilder {
        private final String id;
        private NodeState state = NodeState.READY;
        private final Map<String, String> labels = new HashMap<>(Map.of(NodeView.REGION_LABEL, "eu"));
        private Set<Driver> drivers = EnumSet.allOf(Driver.class);
        private Resources capacity = new Resources(16, 32768);
        private Resources allocated = Resources.ZERO;
        private final Map<String, Integer> fleets = new HashMap<>();
        private Instant heartbeatExpires = NOW.plusSeconds(30);
        private final Set<HostPort> ports = new java.util.HashSet<>();

        private NodeBuilder(String id) {
            this.id = id;
        }

        public NodeBuilder state(NodeState state) {
            this.state = state;
            return this;
        }

        public NodeBuilder region(String region) {
            labels.put(NodeView.REGION_LABEL, region);
            return this;
        }

        public NodeBuilder withoutRegion() {
            labels.remove(NodeView.REGION_LABEL);
            return this;
        }

        public NodeBuilder label(String key, String value) {
            labels.put(key, value);
            return this;
        }

        public NodeBuilder drivers(Driver... drivers) {
            this.drivers = drivers.length == 0 ? EnumSet.noneOf(Driver.class) : EnumSet.of(drivers[0], drivers);
            return this;
        }

        public NodeBuilder capacity(int cpus, long memoryMb) {
            this.capacity = new Resources(cpus, memoryMb);
            return this;
        }

        public NodeBuilder allocated(int cpus, long memoryMb) {
            this.allocated = new Resources(cpus, memoryMb);
            return this;
        }

        public NodeBuilder fleet(String fleet, int machines) {
            fleets.put(fleet, machines);
            return this;
        }

        public NodeBuilder heartbeatExpires(Instant expires) {
            this.heartbeatExpires = expires;
            return this;
        }

        public NodeBuilder publishing(HostPort port) {
            ports.add(port);
            return this;
        }

        public NodeView build() {
            return new NodeView(id, state, labels, drivers, capacity, allocated, fleets, heartbeatExpires, ports);
        }
    }

    /**
     * A large cluster for benchmarks: {@code nodes} nodes in four regions with a few instance shapes, label sets and
     * driver sets, a few percent not ready, and {@code machines} running machines of 1-8 vCPUs in fleets of ten
     * placed on them, all drawn from {@code seed}.
     */
    public static ClusterSnapshot largeCluster(int nodes, int machines, long seed) {
        var random = new Random(seed);
        String[] regions = {"eu", "us", "ap", "sa"};
        int[][] shapes = {{32, 131072}, {64, 262144}, {96, 393216}};
        List<Set<Driver>> driverSets = List.of(EnumSet.allOf(Driver.class), EnumSet.of(Driver.QEMU),
                EnumSet.of(Driver.QEMU, Driver.FIRECRACKER));
        var builders = new ArrayList<NodeBuilder>(nodes);
        int[] usedCpu = new int[nodes];
        long[] usedMem = new long[nodes];
        var fleetsOnNode = new ArrayList<Map<String, Integer>>(nodes);
        for (int i = 0; i < nodes; i++) {
            int[] shape = shapes[random.nextInt(shapes.length)];
            var builder = node("node-%05d".formatted(i)).region(regions[random.nextInt(regions.length)])
                    .label("disk", random.nextInt(4) == 0 ? "hdd" : "ssd")
                    .capacity(shape[0], shape[1]);
            builder.drivers = driverSets.get(random.nextInt(driverSets.size()));
            int roll = random.nextInt(100);
            builder.state(roll < 2 ? NodeState.DOWN : roll < 4 ? NodeState.CORDONED : roll < 5 ? NodeState.DRAINING
                    : NodeState.READY);
            builders.add(builder);
            fleetsOnNode.add(new HashMap<>());
        }
        for (int m = 0; m < machines; m++) {
            int cpus = 1 << random.nextInt(4);
            long mem = cpus * 2048L;
            for (int attempt = 0; ; attempt++) {
                if (attempt == 10_000) {
                    throw new IllegalArgumentException("large cluster: no room for machine " + m);
                }
                int n = random.nextInt(nodes);
                if (usedCpu[n] + cpus <= builders.get(n).capacity.cpus()
                        && usedMem[n] + mem <= builders.get(n).capacity.memoryMb()) {
                    usedCpu[n] += cpus;
                    usedMem[n] += mem;
                    fleetsOnNode.get(n).merge("fleet-" + (m / 10), 1, Integer::sum);
                    break;
                }
            }
        }
        var views = new ArrayList<NodeView>(nodes);
        for (int i = 0; i < nodes; i++) {
            var builder = builders.get(i).allocated(usedCpu[i], usedMem[i]);
            builder.fleets.putAll(fleetsOnNode.get(i));
            views.add(builder.build());
        }
        return ClusterSnapshot.of(1, views);
    }

    /**
     * {@code count} requests of 1-8 vCPUs (2 GiB each): 60% in one of the four regions of {@link #largeCluster},
     * 20% wanting {@code disk=ssd}, 20% firecracker, 20% spread, half in one of {@code fleets} fleets.
     */
    public static List<PlacementRequest> mixedRequests(int count, int fleets, long seed) {
        var random = new Random(seed);
        String[] regions = {"eu", "us", "ap", "sa"};
        var requests = new ArrayList<PlacementRequest>(count);
        for (int i = 0; i < count; i++) {
            int cpus = 1 << random.nextInt(4);
            var request = PlacementRequest.of(cpus, cpus * 2048L);
            if (random.nextInt(10) < 6) {
                request = request.inRegion(regions[random.nextInt(regions.length)]);
            }
            if (random.nextInt(5) == 0) {
                request = request.withLabel("disk", "ssd");
            }
            if (random.nextInt(5) == 0) {
                request = request.withDriver(Driver.FIRECRACKER);
            }
            if (random.nextInt(5) == 0) {
                request = request.withStrategy(Strategy.SPREAD);
            }
            if (random.nextBoolean()) {
                request = request.inFleet("fleet-" + random.nextInt(fleets));
            }
            requests.add(request);
        }
        return requests;
    }
}
