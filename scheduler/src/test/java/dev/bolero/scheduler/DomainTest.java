package dev.bolero.scheduler;

import static dev.bolero.scheduler.Fixtures.node;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

class DomainTest {

    @Test
    void resourcesAddSubtractAndFit() {
        var node = new Resources(8, 16384);
        assertThat(node.add(new Resources(2, 1024))).isEqualTo(new Resources(10, 17408));
        assertThat(node.subtract(new Resources(8, 16384))).isEqualTo(Resources.ZERO);
        assertThat(node.fits(new Resources(8, 16384))).isTrue();
        assertThat(node.fits(new Resources(9, 1))).isFalse();
        assertThat(node.fits(new Resources(1, 16385))).isFalse();
        assertThatThrownBy(() -> node.subtract(new Resources(9, 0))).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("resources: cannot take 9 vCPUs and 0 MiB from 8 vCPUs and 16384 MiB");
        assertThatThrownBy(() -> new Resources(-1, 0)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void requestsNeedSomethingInEveryDimensionAndKeepTheRegionOutOfLabels() {
        assertThatThrownBy(() -> PlacementRequest.of(0, 512)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("placement request: needs at least 1 vCPU and 1 MiB, got 0 vCPUs and 512 MiB");
        assertThatThrownBy(() -> PlacementRequest.of(1, 512).withLabel("region", "eu"))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void snapshotsRejectDuplicateNodesAndListNodesById() {
        assertThatThrownBy(() -> ClusterSnapshot.of(5, List.of(node("a").build(), node("a").build())))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("cluster snapshot 5: duplicate node id a");
        var snapshot = ClusterSnapshot.of(5, List.of(node("b").build(), node("a").state(NodeState.DOWN).build()));
        assertThat(snapshot.nodes()).extracting(NodeView::id).containsExactly("a", "b");
        assertThat(snapshot.node("a")).map(NodeView::state).contains(NodeState.DOWN);
        assertThat(snapshot.node("z")).isEmpty();
    }

    @Test
    void driversParseTheirWireNames() {
        for (Driver driver : Driver.values()) {
            assertThat(Driver.parse(driver.wireName())).isEqualTo(driver);
        }
        assertThat(Driver.CLOUD_HYPERVISOR.wireName()).isEqualTo("cloud-hypervisor");
        assertThatThrownBy(() -> Driver.parse("xen")).hasMessage("driver: unknown name 'xen'");
    }

    @Test
    void hostPortsAreInRangeAndReadAsOperatorsWriteThem() {
        assertThat(HostPort.tcp(8080).describe()).isEqualTo("tcp port 8080");
        assertThat(new HostPort(HostPort.Protocol.parse("udp"), 53)).isEqualTo(HostPort.udp(53));
        assertThat(HostPort.tcp(443)).isLessThan(HostPort.udp(53)).isGreaterThan(HostPort.tcp(80));
        assertThatThrownBy(() -> HostPort.tcp(0)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("host port: tcp port must be between 1 and 65535, got 0");
        assertThatThrownBy(() -> HostPort.udp(65536)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> HostPort.Protocol.parse("sctp")).hasMessage("protocol: unknown name 'sctp'");
    }
}
