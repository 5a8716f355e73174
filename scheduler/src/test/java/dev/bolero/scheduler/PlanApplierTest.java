package dev.bolero.scheduler;

import static dev.bolero.scheduler.Fixtures.NOW;
import static dev.bolero.scheduler.Fixtures.node;
import static dev.bolero.scheduler.Fixtures.snapshot;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class PlanApplierTest {

    private static final PlacementRequest REQUEST = PlacementRequest.of(4, 8192);

    static Stream<Arguments> changes() {
        return Stream.of(
                Arguments.of(node("n"), REQUEST, null),
                Arguments.of(node("other"), REQUEST, "place m-1 on n: node no longer exists"),
                Arguments.of(node("n").state(NodeState.CORDONED), REQUEST, "place m-1 on n: node is cordoned"),
                Arguments.of(node("n").state(NodeState.DOWN), REQUEST, "place m-1 on n: node is down"),
                Arguments.of(node("n").state(NodeState.DRAINING), REQUEST, "place m-1 on n: node is draining"),
                Arguments.of(node("n").heartbeatExpires(NOW), REQUEST,
                        "place m-1 on n: node is past its heartbeat deadline " + NOW),
                Arguments.of(node("n").allocated(14, 1024), REQUEST,
                        "place m-1 on n: node has 2 vCPUs and 31744 MiB free, needs 4 vCPUs and 8192 MiB"),
                Arguments.of(node("n").drivers(Driver.QEMU), REQUEST.withDriver(Driver.FIRECRACKER),
                        "place m-1 on n: node no longer runs driver firecracker"),
                Arguments.of(node("n").region("us"), REQUEST.inRegion("eu"),
                        "place m-1 on n: node is no longer in region eu"),
                Arguments.of(node("n"), REQUEST.withLabel("gpu", "a100"),
                        "place m-1 on n: node no longer has labels {gpu=a100}"),
                Arguments.of(node("n").publishing(HostPort.udp(8080)), REQUEST.publishing(HostPort.tcp(8080)), null),
                Arguments.of(node("n").publishing(HostPort.tcp(8080)).publishing(HostPort.tcp(80)),
                        REQUEST.publishing(HostPort.tcp(8080)).publishing(HostPort.tcp(443)),
                        "place m-1 on n: node already has tcp port 8080 in use"));
    }

    @ParameterizedTest
    @MethodSource("changes")
    void recheckesEachPlacementAgainstTheLatestNode(Fixtures.NodeBuilder latestNode, PlacementRequest request,
                                                    String rejection) {
        var placement = new Placement("m-1", "n", request);
        var outcome = PlanApplier.apply(snapshot(latestNode), new Plan(0, List.of(placement)), NOW);
        if (rejection == null) {
            assertThat(outcome.committed()).containsExactly(placement);
            assertThat(outcome.rejected()).isEmpty();
        } else {
            assertThat(outcome.committed()).isEmpty();
            assertThat(outcome.rejected()).containsExactly(new PlanOutcome.Rejection(placement, rejection));
        }
    }

    @Test
    void countsPlacementsOfTheSamePlanAlreadyAccepted() {
        var latest = snapshot(node("n").capacity(8, 65536).allocated(1, 0), node("m"));
        var first = new Placement("m-1", "n", REQUEST);
        var second = new Placement("m-2", "n", REQUEST);
        var elsewhere = new Placement("m-3", "m", REQUEST);
        var third = new Placement("m-4", "n", PlacementRequest.of(1, 1));
        var outcome = PlanApplier.apply(latest, new Plan(0, List.of(first, second, elsewhere, third)), NOW);
        assertThat(outcome.committed()).containsExactly(first, elsewhere, third);
        assertThat(outcome.rejected()).containsExactly(new PlanOutcome.Rejection(second,
                "place m-2 on n: node has 3 vCPUs and 57344 MiB free, needs 4 vCPUs and 8192 MiB"));
        assertThat(outcome.snapshotIndex()).isEqualTo(latest.index());
    }

    @Test
    void twoPlansPublishingTheSamePortOnOneNodeDoNotBothCommit() {
        var web = REQUEST.publishing(HostPort.tcp(8080));
        var planned = snapshot(node("n"));
        var first = new Plan(planned.index(), List.of(new Placement("m-1", "n", web)));
        var second = new Plan(planned.index(), List.of(new Placement("m-2", "n", web)));
        assertThat(PlanApplier.apply(planned, first, NOW).rejected()).isEmpty();
        // The first plan committed: the latest state has its machine and port on n.
        var latest = ClusterSnapshot.of(2,
                List.of(node("n").allocated(4, 8192).publishing(HostPort.tcp(8080)).build()));
        assertThat(PlanApplier.apply(latest, second, NOW).rejected()).extracting(PlanOutcome.Rejection::reason)
                .containsExactly("place m-2 on n: node already has tcp port 8080 in use");
    }

    @Test
    void countsThePortsOfPlacementsOfTheSamePlanAlreadyAccepted() {
        var first = new Placement("m-1", "n", PlacementRequest.of(1, 1).publishing(HostPort.tcp(8080)));
        var other = new Placement("m-2", "n", PlacementRequest.of(1, 1).publishing(HostPort.udp(8080)));
        var clash = new Placement("m-3", "n", PlacementRequest.of(1, 1).publishing(HostPort.tcp(8080)));
        var outcome = PlanApplier.apply(snapshot(node("n")), new Plan(0, List.of(first, other, clash)), NOW);
        assertThat(outcome.committed()).containsExactly(first, other);
        assertThat(outcome.rejected()).containsExactly(new PlanOutcome.Rejection(clash,
                "place m-3 on n: node already has tcp port 8080 in use"));
    }

    @Test
    void rejectsAPlanPlacingAMachineTwice() {
        var placement = new Placement("m-1", "n", REQUEST);
        assertThatThrownBy(() -> new Plan(3, List.of(placement, placement)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("plan at index 3: machine m-1 placed twice");
    }
}
