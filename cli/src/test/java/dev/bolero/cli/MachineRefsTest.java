package dev.bolero.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bolero.api.wire.ClusterMachine;
import dev.bolero.core.MachineSpec;
import dev.bolero.core.MachineState;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class MachineRefsTest {
    private static ClusterMachine machine(String id, String name) {
        return new ClusterMachine(id, name, "alpha", "web", MachineState.RUNNING, MachineState.RUNNING,
                MachineSpec.builder("busybox").build(), "node-1", "n1", null, Map.of(), null, null, null, Instant.EPOCH,
                Instant.EPOCH, 1, 1, null, List.of());
    }

    private final AtomicInteger listings = new AtomicInteger();
    private final MachineRefs refs = new MachineRefs(() -> {
        listings.incrementAndGet();
        return List.of(machine("abc123", "web-1"), machine("abd456", "web-2"), machine("web-1x", "abc123-clone"));
    });

    @Test
    void anExactIdWinsThenAnExactNameThenAUniquePrefix() {
        assertThat(refs.id("abc123")).isEqualTo("abc123");
        assertThat(refs.id("web-2")).isEqualTo("abd456");
        assertThat(refs.id("abd")).isEqualTo("abd456");
        assertThat(refs.id("web-1")).as("a name beats an id prefix").isEqualTo("abc123");
        assertThat(listings).as("one listing serves every reference").hasValue(1);
    }

    @Test
    void anAmbiguousPrefixNamesTheCandidatesAndAnUnknownOneIsNotFound() {
        assertThatThrownBy(() -> refs.id("ab")).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("'ab' matches 2 machines (abc123 web-1, abd456 web-2): give more of the id");
        assertThatThrownBy(() -> refs.id("zzz")).isInstanceOf(MachineRefs.NoSuchMachineException.class)
                .hasMessage("no machine has the id, id prefix or name 'zzz'");
        assertThatThrownBy(() -> refs.id("")).isInstanceOf(MachineRefs.NoSuchMachineException.class);
    }
}
