package dev.bolero.scheduler;

import static dev.bolero.scheduler.Fixtures.NOW;
import static dev.bolero.scheduler.Fixtures.node;
import static dev.bolero.scheduler.Fixtures.snapshot;
import static org.assertj.core.api.Assertions.assertThat;

import dev.bolero.scheduler.PlacementDecision.Placed;
import dev.bolero.scheduler.PlacementDecision.Refused;
import java.util.List;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class SchedulerTest {

    /** Each case: a cluster where exactly one node is acceptable (named {@code ok}), and the request. */
    static Stream<Arguments> feasibility() {
        var request = PlacementRequest.of(4, 8192);
        return Stream.of(
                Arguments.of("capacity: cpu", request, List.of(node("a").allocated(14, 0), node("ok").allocated(12, 0))),
                Arguments.of("capacity: memory", request,
                        List.of(node("a").allocated(0, 30000), node("ok").allocated(0, 24576))),
                Arguments.of("already over capacity", request, List.of(node("a").capacity(2, 1024).allocated(8, 4096),
                        node("ok").capacity(4, 8192))),
                Arguments.of("state: down", request, List.of(node("a").state(NodeState.DOWN), node("ok"))),
                Arguments.of("state: cordoned", request, List.of(node("a").state(NodeState.CORDONED), node("ok"))),
                Arguments.of("state: draining", request, List.of(node("a").state(NodeState.DRAINING), node("ok"))),
                Arguments.of("heartbeat expired", request, List.of(node("a").heartbeatExpires(NOW), node("ok"))),
                Arguments.of("region", request.inRegion("us"), List.of(node("a").region("eu"), node("ok").region("us"))),
                Arguments.of("region label missing", request.inRegion("eu"),
                        List.of(node("ok"), node("a").withoutRegion())),
                Arguments.of("label value", request.withLabel("disk", "ssd"),
                        List.of(node("a").label("disk", "hdd"), node("ok").label("disk", "ssd"))),
                Arguments.of("label missing", request.withLabel("disk", "ssd"),
                        List.of(node("a"), node("ok").label("disk", "ssd"))),
                Arguments.of("driver", request.withDriver(Driver.FIRECRACKER),
                        List.of(node("a").drivers(Driver.QEMU), node("ok").drivers(Driver.QEMU, Driver.FIRECRACKER))),
                Arguments.of("exact fit", request, List.of(node("a").capacity(3, 65536), node("ok").capacity(4, 8192))),
                Arguments.of("port in use", request.publishing(HostPort.tcp(8080)),
                        List.of(node("a").publishing(HostPort.tcp(8080)), node("ok").publishing(HostPort.udp(8080))
                                .publishing(HostPort.tcp(80)))),
                Arguments.of("any of its ports in use",
                        request.publishing(HostPort.tcp(80)).publishing(HostPort.udp(53)),
                        List.of(node("a").publishing(HostPort.udp(53)), node("ok").publishing(HostPort.tcp(53)))),
                Arguments.of("port in use on the fleet's only free node", request.inFleet("web")
                                .publishing(HostPort.tcp(8080)),
                        List.of(node("a").publishing(HostPort.tcp(8080)), node("ok").fleet("web", 1))));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("feasibility")
    void placesOnlyOnTheNodeThatPassesEveryFilter(String name, PlacementRequest request, List<Fixtures.NodeBuilder> nodes) {
        var cluster = snapshot(nodes.toArray(Fixtures.NodeBuilder[]::new));
        for (long seed = 0; seed < 20; seed++) {
            assertThat(Scheduler.plan(cluster, request, NOW, seed)).isInstanceOf(Placed.class)
                    .extracting(d -> ((Placed) d).nodeId()).isEqualTo("ok");
        }
    }

    static Stream<Arguments> ranking() {
        var small = PlacementRequest.of(2, 4096);
        return Stream.of(
                Arguments.of("binpack picks the fullest", small,
                        List.of(node("empty"), node("half").allocated(8, 16384), node("full").allocated(13, 26000)),
                        "full"),
                Arguments.of("spread picks the emptiest", small.withStrategy(Strategy.SPREAD),
                        List.of(node("empty"), node("half").allocated(8, 16384), node("full").allocated(13, 26000)),
                        "empty"),
                Arguments.of("binpack weighs fractions, not absolute amounts", small,
                        List.of(node("big").capacity(96, 393216).allocated(48, 196608), node("small").capacity(8, 16384)
                                .allocated(5, 10240)),
                        "small"),
                Arguments.of("binpack counts both dimensions", small,
                        List.of(node("cpu-heavy").allocated(12, 4096), node("both").allocated(10, 20480)), "both"),
                Arguments.of("anti-affinity beats binpack", small.inFleet("web"),
                        List.of(node("full").allocated(12, 24576).fleet("web", 1), node("empty")), "empty"),
                Arguments.of("anti-affinity prefers fewer fleet machines when all have some", small.inFleet("web"),
                        List.of(node("two").fleet("web", 2).allocated(12, 24576), node("one").fleet("web", 1)), "one"),
                Arguments.of("anti-affinity yields when only fleet nodes fit", small.inFleet("web"),
                        List.of(node("web").fleet("web", 3), node("busy").allocated(16, 0)), "web"),
                Arguments.of("other fleets do not count", small.inFleet("web"),
                        List.of(node("full").allocated(12, 24576).fleet("db", 4), node("empty")), "full"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("ranking")
    void ranksFeasibleNodes(String name, PlacementRequest request, List<Fixtures.NodeBuilder> nodes, String expected) {
        var cluster = snapshot(nodes.toArray(Fixtures.NodeBuilder[]::new));
        assertThat(Scheduler.plan(cluster, request, NOW, 7)).isEqualTo(
                ReferenceScheduler.planAll(cluster, List.of(request), NOW, 7).getFirst());
        assertThat(((Placed) Scheduler.plan(cluster, request, NOW, 7)).nodeId()).isEqualTo(expected);
    }

    @Test
    void scoreIsTheMeanFillAfterPlacementForBinpackAndItsComplementForSpread() {
        var cluster = snapshot(node("n").capacity(10, 1000).allocated(4, 300));
        var request = PlacementRequest.of(1, 100);
        assertThat(((Placed) Scheduler.plan(cluster, request, NOW, 0)).score()).isCloseTo(0.45, within());
        assertThat(((Placed) Scheduler.plan(cluster, request.withStrategy(Strategy.SPREAD), NOW, 0)).score())
                .isCloseTo(0.55, within());
    }

    private static org.assertj.core.data.Offset<Double> within() {
        return org.assertj.core.data.Offset.offset(1e-12);
    }

    @Test
    void tiesAreBrokenBySeedAndTheSameSeedAlwaysPicksTheSameNode() {
        var cluster = snapshot(IntStream.range(0, 16).mapToObj(i -> node("twin-" + i))
                .toArray(Fixtures.NodeBuilder[]::new));
        var request = PlacementRequest.of(1, 1024);
        var chosen = IntStream.range(0, 64)
                .mapToObj(seed -> ((Placed) Scheduler.plan(cluster, request, NOW, seed)).nodeId())
                .distinct().count();
        assertThat(chosen).as("identical nodes chosen across 64 seeds").isGreaterThan(4);
        assertThat(Scheduler.plan(cluster, request, NOW, 99)).isEqualTo(Scheduler.plan(cluster, request, NOW, 99));
    }

    @Test
    void planAllSeesItsOwnPlacementsWithoutChangingTheSnapshot() {
        var cluster = snapshot(node("a").capacity(4, 8192), node("b").capacity(4, 8192));
        var request = PlacementRequest.of(3, 1024);
        var decisions = Scheduler.planAll(cluster, List.of(request, request, request), NOW, 1);
        assertThat(decisions.subList(0, 2)).extracting(d -> ((Placed) d).nodeId()).containsExactlyInAnyOrder("a", "b");
        assertThat(decisions.get(2)).isEqualTo(new Refused(
                "no node has 3 vCPUs and 1024 MiB free (2 nodes: 2 lack capacity)"));
        assertThat(Scheduler.plan(cluster, request, NOW, 1)).isInstanceOf(Placed.class);
    }

    @Test
    void planAllPutsMachinesPublishingTheSamePortOnDistinctNodes() {
        var cluster = snapshot(node("a"), node("b"));
        var request = PlacementRequest.of(1, 256).publishing(HostPort.tcp(8080));
        var other = PlacementRequest.of(1, 256).publishing(HostPort.udp(8080));
        var decisions = Scheduler.planAll(cluster, List.of(request, other, request, request), NOW, 5);
        assertThat(List.of(decisions.get(0), decisions.get(2))).extracting(d -> ((Placed) d).nodeId())
                .containsExactlyInAnyOrder("a", "b");
        assertThat(decisions.get(1)).isInstanceOf(Placed.class);
        assertThat(decisions.get(3)).isEqualTo(new Refused(
                "no node has 1 vCPU and 256 MiB and tcp port 8080 free (2 nodes: 2 have tcp port 8080 in use)"));
        assertThat(Scheduler.plan(cluster, request, NOW, 5)).isInstanceOf(Placed.class);
    }

    @Test
    void antiAffinityPutsAFleetOnDistinctNodesWhileItCanEvenWhenBinPacking() {
        var cluster = snapshot(node("a"), node("b"), node("c"));
        var request = PlacementRequest.of(1, 1024).inFleet("web").withStrategy(Strategy.BINPACK);
        var decisions = Scheduler.planAll(cluster, List.of(request, request, request, request), NOW, 3);
        var nodes = decisions.stream().map(d -> ((Placed) d).nodeId()).toList();
        assertThat(nodes.subList(0, 3)).containsExactlyInAnyOrder("a", "b", "c");
        assertThat(nodes.get(3)).isIn("a", "b", "c");
    }

    @Test
    void aRequestPinnedToANodeGoesThereEvenWhenOthersScoreBetterAndTheFleetIsThere() {
        var cluster = snapshot(node("a").allocated(8, 16384), node("b"), node("c"));
        var pinned = PlacementRequest.of(1, 1024).inFleet("db").onNode("c");
        var decisions = Scheduler.planAll(cluster, List.of(pinned, pinned, PlacementRequest.of(1, 1024)), NOW, 2);
        assertThat(decisions.subList(0, 2)).extracting(d -> ((Placed) d).nodeId()).containsExactly("c", "c");
        assertThat(((Placed) decisions.get(2)).nodeId()).isEqualTo("a");
    }

    static Stream<Arguments> refusals() {
        var request = PlacementRequest.of(4, 8192);
        return Stream.of(
                Arguments.of(request.inRegion("eu"),
                        List.of(node("a").allocated(14, 0), node("b").allocated(0, 30000), node("c").state(NodeState.CORDONED),
                                node("d").region("us")),
                        "no node has 4 vCPUs and 8192 MiB free in region eu (3 nodes in region eu: 1 cordoned, 2 lack capacity)"),
                Arguments.of(request.inRegion("ap"), List.of(node("a").region("us"), node("b")),
                        "no node has 4 vCPUs and 8192 MiB free in region ap (no nodes in region ap; regions: eu, us)"),
                Arguments.of(request, List.of(),
                        "no node has 4 vCPUs and 8192 MiB free (cluster has no nodes)"),
                Arguments.of(request.withDriver(Driver.FIRECRACKER).withLabel("disk", "ssd"),
                        List.of(node("a").drivers(Driver.QEMU), node("b").label("disk", "hdd"), node("c").label("disk", "hdd"),
                                node("d").label("disk", "ssd").state(NodeState.DOWN),
                                node("e").label("disk", "ssd").state(NodeState.DRAINING),
                                node("f").label("disk", "ssd").heartbeatExpires(NOW.minusSeconds(1))),
                        "no node has 4 vCPUs and 8192 MiB free with driver firecracker and labels {disk=ssd} "
                                + "(6 nodes: 1 lacks driver firecracker, 2 lack labels {disk=ssd}, 1 down, 1 draining, "
                                + "1 past their heartbeat deadline)"),
                Arguments.of(request.withDriver(Driver.FIRECRACKER),
                        List.of(node("a").drivers(Driver.QEMU), node("b").drivers(Driver.QEMU, Driver.CLOUD_HYPERVISOR)),
                        "no node has 4 vCPUs and 8192 MiB free with driver firecracker "
                                + "(2 nodes: 2 lack driver firecracker)"),
                Arguments.of(PlacementRequest.of(1, 1), List.of(node("a").capacity(0, 0)),
                        "no node has 1 vCPU and 1 MiB free (1 node: 1 lacks capacity)"),
                Arguments.of(request.inRegion("eu").publishing(HostPort.tcp(8080)),
                        List.of(node("a").publishing(HostPort.tcp(8080)), node("b").allocated(14, 0)
                                .publishing(HostPort.tcp(8080)), node("c").region("us")),
                        "no node has 4 vCPUs and 8192 MiB and tcp port 8080 free in region eu "
                                + "(2 nodes in region eu: 1 lacks capacity, 1 has tcp port 8080 in use)"),
                Arguments.of(request.publishing(HostPort.udp(53)).publishing(HostPort.tcp(443)),
                        List.of(node("a").publishing(HostPort.tcp(443)), node("b").publishing(HostPort.udp(53))),
                        "no node has 4 vCPUs and 8192 MiB and tcp port 443 and udp port 53 free "
                                + "(2 nodes: 2 have tcp port 443 or udp port 53 in use)"),
                Arguments.of(request.onNode("b"), List.of(node("a"), node("b").allocated(14, 0)),
                        "no node has 4 vCPUs and 8192 MiB free on node b (1 node: 1 lacks capacity)"),
                Arguments.of(request.onNode("gone").inRegion("eu"), List.of(node("a"), node("b")),
                        "no node has 4 vCPUs and 8192 MiB free on node gone in region eu "
                                + "(node gone is not in the cluster or not in region eu)"));
    }

    @ParameterizedTest
    @MethodSource("refusals")
    void refusalsNameWhatWasAskedAndWhatEliminatedEachNode(PlacementRequest request, List<Fixtures.NodeBuilder> nodes,
                                                           String reason) {
        var cluster = snapshot(nodes.toArray(Fixtures.NodeBuilder[]::new));
        assertThat(Scheduler.plan(cluster, request, NOW, 0)).isEqualTo(new Refused(reason));
    }

    @Test
    void agreesWithTheReferenceSchedulerOnALargeClusterUntilItIsFull() {
        var cluster = Fixtures.largeCluster(1_000, 10_000, 11);
        var requests = Fixtures.mixedRequests(12_000, 1_000, 12);
        for (long seed : new long[] {1, 2}) {
            var decisions = Scheduler.planAll(cluster, requests, NOW, seed);
            var reference = ReferenceScheduler.planAll(cluster, requests, NOW, seed);
            assertThat(decisions).filteredOn(Refused.class::isInstance).as("the cluster fills up").isNotEmpty();
            for (int i = 0; i < requests.size(); i++) {
                if (reference.get(i) instanceof Placed placed) {
                    assertThat(decisions.get(i)).as("request %d, seed %d", i, seed).isEqualTo(placed);
                } else {
                    assertThat(decisions.get(i)).as("request %d, seed %d", i, seed).isInstanceOf(Refused.class);
                }
            }
        }
    }
}
