package dev.bolero.scheduler;

import static dev.bolero.scheduler.Fixtures.NOW;
import static org.assertj.core.api.Assertions.assertThat;

import dev.bolero.scheduler.PlacementDecision.Placed;
import dev.bolero.scheduler.PlacementDecision.Refused;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.stream.IntStream;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;

/** Invariants of the scheduler over small random clusters, checked against a brute-force oracle. */
class SchedulerPropertiesTest {

    @Property
    void neverOvercommitsNorPublishesAPortTwiceOnANodeNorPlacesOnANodeThatFailsAFilter(
            @ForAll("clusters") List<NodeView> nodes, @ForAll("requests") List<PlacementRequest> requests,
            @ForAll long seed) {
        var snapshot = ClusterSnapshot.of(1, nodes);
        var decisions = Scheduler.planAll(snapshot, requests, NOW, seed);
        var added = new HashMap<String, Resources>();
        var published = new HashMap<String, Set<HostPort>>();
        for (int i = 0; i < requests.size(); i++) {
            if (decisions.get(i) instanceof Placed(String nodeId, double score)) {
                var node = snapshot.node(nodeId).orElseThrow();
                assertThat(admits(node, requests.get(i), added.getOrDefault(nodeId, Resources.ZERO),
                        published.getOrDefault(nodeId, Set.of()))).as("request %d placed on %s", i, node).isTrue();
                added.merge(nodeId, requests.get(i).resources(), Resources::add);
                published.computeIfAbsent(nodeId, id -> new HashSet<>()).addAll(requests.get(i).ports());
                assertThat(score).isBetween(0.0, 1.0);
            }
        }
        added.forEach((nodeId, placed) -> assertThat(
                snapshot.node(nodeId).orElseThrow().capacity().fits(snapshot.node(nodeId).orElseThrow().allocated()
                        .add(placed))).as("node %s within capacity", nodeId).isTrue());
        var publishers = new HashMap<String, List<HostPort>>();
        nodes.forEach(node -> publishers.put(node.id(), new ArrayList<>(node.ports())));
        for (int i = 0; i < requests.size(); i++) {
            if (decisions.get(i) instanceof Placed placed) {
                publishers.get(placed.nodeId()).addAll(requests.get(i).ports());
            }
        }
        publishers.forEach((nodeId, ports) -> assertThat(ports).as("ports published on %s", nodeId)
                .doesNotHaveDuplicates());
    }

    @Property
    void refusesOnlyWhenNoNodeFits(@ForAll("clusters") List<NodeView> nodes,
                                   @ForAll("requests") List<PlacementRequest> requests, @ForAll long seed) {
        var snapshot = ClusterSnapshot.of(1, nodes);
        var decisions = Scheduler.planAll(snapshot, requests, NOW, seed);
        var added = new HashMap<String, Resources>();
        var published = new HashMap<String, Set<HostPort>>();
        for (int i = 0; i < requests.size(); i++) {
            var request = requests.get(i);
            switch (decisions.get(i)) {
                case Placed placed -> {
                    added.merge(placed.nodeId(), request.resources(), Resources::add);
                    published.computeIfAbsent(placed.nodeId(), id -> new HashSet<>()).addAll(request.ports());
                }
                case Refused refused -> {
                    assertThat(nodes).as("request %d refused: %s", i, refused.reason())
                            .noneMatch(node -> admits(node, request, added.getOrDefault(node.id(), Resources.ZERO),
                                    published.getOrDefault(node.id(), Set.of())));
                    assertThat(refused.reason()).startsWith("no node has " + request.describeNeeds() + " free");
                }
            }
        }
    }

    @Property
    void ranksExactlyAsTheReferenceScheduler(@ForAll("clusters") List<NodeView> nodes,
                                             @ForAll("requests") List<PlacementRequest> requests, @ForAll long seed) {
        var snapshot = ClusterSnapshot.of(1, nodes);
        var fast = Scheduler.planAll(snapshot, requests, NOW, seed);
        var reference = ReferenceScheduler.planAll(snapshot, requests, NOW, seed);
        for (int i = 0; i < requests.size(); i++) {
            switch (reference.get(i)) {
                case Placed placed -> assertThat(fast.get(i)).as("request %d", i).isEqualTo(placed);
                case Refused refused -> assertThat(fast.get(i)).as("request %d", i).isInstanceOf(Refused.class);
            }
        }
    }

    @Property
    void isDeterministicForTheSameSnapshotAndSeedWhateverTheNodeOrder(
            @ForAll("clusters") List<NodeView> nodes, @ForAll("requests") List<PlacementRequest> requests,
            @ForAll long seed) {
        var shuffled = new ArrayList<>(nodes);
        Collections.shuffle(shuffled, new Random(seed));
        var decisions = Scheduler.planAll(ClusterSnapshot.of(1, nodes), requests, NOW, seed);
        assertThat(Scheduler.planAll(ClusterSnapshot.of(1, shuffled), requests, NOW, seed)).isEqualTo(decisions);
        assertThat(Scheduler.planAll(ClusterSnapshot.of(1, nodes), requests, NOW, seed)).isEqualTo(decisions);
        if (!requests.isEmpty()) {
            assertThat(Scheduler.plan(ClusterSnapshot.of(1, nodes), requests.getFirst(), NOW, seed))
                    .isEqualTo(decisions.getFirst());
        }
    }

    @Property
    void aPlanAppliedToTheSnapshotItWasMadeOnCommitsWhole(@ForAll("clusters") List<NodeView> nodes,
                                                          @ForAll("requests") List<PlacementRequest> requests,
                                                          @ForAll long seed) {
        var snapshot = ClusterSnapshot.of(1, nodes);
        var decisions = Scheduler.planAll(snapshot, requests, NOW, seed);
        var placements = IntStream.range(0, requests.size())
                .filter(i -> decisions.get(i) instanceof Placed)
                .mapToObj(i -> new Placement("m-" + i, ((Placed) decisions.get(i)).nodeId(), requests.get(i)))
                .toList();
        var outcome = PlanApplier.apply(snapshot, new Plan(snapshot.index(), placements), NOW);
        assertThat(outcome.committed()).isEqualTo(placements);
        assertThat(outcome.rejected()).isEmpty();
    }

    @Property
    void aSnapshotWithPlacementsDecidesAsOneBuiltAfreshFromTheChangedNodes(
            @ForAll("clusters") List<NodeView> nodes, @ForAll("batches") List<List<PlacementRequest>> batches,
            @ForAll long seed) {
        var random = new Random(seed);
        var derived = ClusterSnapshot.of(1, nodes);
        var latest = new HashMap<String, NodeView>();
        nodes.forEach(node -> latest.put(node.id(), node));
        long index = 1;
        for (var batch : batches) {
            var decisions = Scheduler.planAll(derived, batch, NOW, seed);
            var placements = new ArrayList<Placement>();
            for (int i = 0; i < batch.size(); i++) {
                if (decisions.get(i) instanceof Placed placed) {
                    placements.add(new Placement("m-" + index + "-" + i, placed.nodeId(), batch.get(i)));
                } else if (!nodes.isEmpty()) {
                    // Placed elsewhere meanwhile (by another server, an overcommitting operator): any node at all.
                    String nodeId = nodes.get(random.nextInt(nodes.size())).id();
                    placements.add(new Placement("m-" + index + "-" + i, nodeId, batch.get(i)));
                }
            }
            index += 1 + random.nextInt(3);
            var before = derived;
            var beforeNodes = List.copyOf(before.nodes());
            derived = derived.withPlacements(index, placements);
            placements.forEach(p -> latest.put(p.nodeId(), withMachine(latest.get(p.nodeId()), p.request())));
            var fresh = ClusterSnapshot.of(index, latest.values());

            assertThat(before.nodes()).as("the snapshot derived from").isEqualTo(beforeNodes);
            assertThat(derived.index()).isEqualTo(index);
            assertThat(derived.nodes()).isEqualTo(fresh.nodes());
            for (var node : fresh.nodes()) assertThat(derived.node(node.id())).contains(node);
            assertThat(Scheduler.planAll(derived, batch, NOW, seed + index))
                    .isEqualTo(Scheduler.planAll(fresh, batch, NOW, seed + index));
            for (var request : batch) {
                assertThat(Scheduler.plan(derived, request, NOW, seed)).isEqualTo(Scheduler.plan(fresh, request, NOW,
                        seed));
            }
        }
    }

    @Property
    void aSnapshotRefusesPlacementsOnNodesItLacks(@ForAll("clusters") List<NodeView> nodes) {
        var snapshot = ClusterSnapshot.of(1, nodes);
        var stranger = new Placement("m-1", "not-a-node", PlacementRequest.of(1, 1));
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> snapshot.withPlacements(2, List.of(stranger)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("unknown node not-a-node");
    }

    /** {@code node} with one more machine asking for {@code request}, written out plainly. */
    private static NodeView withMachine(NodeView node, PlacementRequest request) {
        var fleets = new HashMap<>(node.fleetMachines());
        request.fleet().ifPresent(fleet -> fleets.put(fleet, fleets.getOrDefault(fleet, 0) + 1));
        var ports = new HashSet<>(node.ports());
        ports.addAll(request.ports());
        return new NodeView(node.id(), node.state(), node.labels(), node.drivers(), node.capacity(),
                new Resources(node.allocated().cpus() + request.resources().cpus(),
                        node.allocated().memoryMb() + request.resources().memoryMb()),
                fleets, node.heartbeatExpires(), ports);
    }

    /** The oracle: every filter written out plainly, independent of the scheduler's code. */
    private static boolean admits(NodeView node, PlacementRequest request, Resources alreadyPlaced,
                                  Set<HostPort> alreadyPublished) {
        var used = node.allocated().add(alreadyPlaced);
        return node.state() == NodeState.READY
                && NOW.isBefore(node.heartbeatExpires())
                && request.node().map(node.id()::equals).orElse(true)
                && request.region().map(r -> r.equals(node.labels().get("region"))).orElse(true)
                && request.driver().map(node.drivers()::contains).orElse(true)
                && node.labels().entrySet().containsAll(request.nodeLabels().entrySet())
                && used.cpus() + request.resources().cpus() <= node.capacity().cpus()
                && used.memoryMb() + request.resources().memoryMb() <= node.capacity().memoryMb()
                && Collections.disjoint(request.ports(), node.ports())
                && Collections.disjoint(request.ports(), alreadyPublished);
    }

    @Provide
    Arbitrary<List<NodeView>> clusters() {
        var shape = Combinators.combine(
                Arbitraries.frequencyOf(Tuple.of(6, Arbitraries.just(NodeState.READY)),
                        Tuple.of(1, Arbitraries.of(NodeState.DOWN, NodeState.CORDONED, NodeState.DRAINING))),
                Arbitraries.of("eu", "us"),
                Arbitraries.of("ssd", "hdd").optional(),
                Arbitraries.of(Driver.class).set(),
                // Few distinct sizes, so that equal scores (ties) are common.
                Arbitraries.of(0, 2, 4, 8),
                Arbitraries.of(0, 2, 4, 8),
                Arbitraries.of(0, 1, 2, 4, 10),
                Arbitraries.of(0, 1, 2, 4, 10)
        ).as(NodeShape::new);
        var node = Combinators.combine(shape, Arbitraries.integers().between(0, 2),
                Arbitraries.frequency(Tuple.of(9, false), Tuple.of(1, true)), ports()).as(NodeDraft::new);
        return node.list().ofMaxSize(12).map(drafts -> IntStream.range(0, drafts.size())
                .mapToObj(i -> drafts.get(i).build("n" + i)).toList());
    }

    @Provide
    Arbitrary<List<PlacementRequest>> requests() {
        return Combinators.combine(
                Arbitraries.integers().between(1, 4),
                Arbitraries.integers().between(1, 4),
                Arbitraries.of("eu", "us").optional(0.3),
                Arbitraries.of("ssd", "hdd").optional(0.3),
                Arbitraries.of(Driver.class).optional(0.3),
                Arbitraries.of(Strategy.class),
                Arbitraries.of("web", "db").optional(0.5),
                // Pinned now and then, to a node that may be absent (clusters name theirs n0 to n11).
                Combinators.combine(ports(), Arbitraries.of("n0", "n1", "n2", "n12").optional(0.2)).as(Tuple::of)
        ).as((cpus, memGiB, region, disk, driver, strategy, fleet, where) -> new PlacementRequest(
                new Resources(cpus, memGiB * 1024L), region,
                disk.map(d -> Map.of("disk", d)).orElse(Map.of()), driver, strategy, fleet, where.get1(),
                where.get2())).list()
                .ofMaxSize(20);
    }

    @Provide
    Arbitrary<List<List<PlacementRequest>>> batches() {
        return requests().list().ofMaxSize(6);
    }

    /** Mostly none, else one or two of three ports (two sharing a number), so that collisions are common. */
    private static Arbitrary<Set<HostPort>> ports() {
        return Arbitraries.frequencyOf(Tuple.of(2, Arbitraries.just(Set.of())),
                Tuple.of(1, Arbitraries.of(HostPort.tcp(80), HostPort.tcp(8080), HostPort.udp(8080)).set()
                        .ofMinSize(1).ofMaxSize(2)));
    }

    private record NodeShape(NodeState state, String region, Optional<String> disk, Set<Driver> drivers, int cpus,
                             int memGiB, int usedCpus, int usedGiB) {}

    private record NodeDraft(NodeShape shape, int webMachines, boolean heartbeatExpired, Set<HostPort> ports) {
        NodeView build(String id) {
            var labels = new HashMap<String, String>(Map.of("region", shape.region()));
            shape.disk().ifPresent(d -> labels.put("disk", d));
            return new NodeView(id, shape.state(), labels, shape.drivers(),
                    new Resources(shape.cpus(), shape.memGiB() * 1024L),
                    new Resources(shape.usedCpus(), shape.usedGiB() * 1024L),
                    webMachines == 0 ? Map.of() : Map.of("web", webMachines),
                    heartbeatExpired ? NOW : NOW.plusSeconds(30), ports);
        }
    }
}
