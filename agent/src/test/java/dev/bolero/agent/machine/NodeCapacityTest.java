package dev.bolero.agent.machine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bolero.api.ApiException;
import dev.bolero.api.ErrorCode;
import org.junit.jupiter.api.Test;

class NodeCapacityTest {

    @Test
    void a_machine_that_does_not_fit_is_refused_naming_what_is_free() {
        NodeCapacity c = new NodeCapacity(2, 1000, 1.0, 1.0);
        c.checkFits("start machine a", 1, 500, 1, 500);
        assertThatThrownBy(() -> c.checkFits("start machine b", 1, 600, 1, 500))
                .isInstanceOfSatisfying(ApiException.class,
                        e -> assertThat(e.code()).isEqualTo(ErrorCode.FAILED_PRECONDITION))
                .hasMessage("start machine b: the node cannot fit 1 vCPUs and 500 MiB: 1 vCPUs and 400 MiB free"
                        + " of 2 and 1000");
    }

    @Test
    void overcommit_multiplies_what_can_be_given() {
        NodeCapacity c = new NodeCapacity(2, 1000, 2.5, 2.5);
        assertThat(c.allocatableCpus()).isEqualTo(5);
        assertThat(c.allocatableMemoryMb()).isEqualTo(2500);
        c.checkFits("start machine a", 4, 2000, 1, 500);
        assertThatThrownBy(() -> new NodeCapacity(2, 1000, 1.0, 0.5)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void the_host_reports_its_cpus_and_memory_less_the_reserve() {
        NodeCapacity host = NodeCapacity.ofHost(1.0, 1.0);
        assertThat(host.cpus()).isEqualTo(java.lang.Runtime.getRuntime().availableProcessors());
        assertThat(host.memoryMb()).isPositive();
    }
}
