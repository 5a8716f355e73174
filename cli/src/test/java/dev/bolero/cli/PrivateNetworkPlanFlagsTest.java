package dev.bolero.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bolero.network.PrivateAddressing;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** The private network's plan flags of {@code bolero server} and {@code bolero up}: counts rounded up, bad ones named. */
class PrivateNetworkPlanFlagsTest {
    @Test
    void withoutFlagsTheServerTakesTheClustersPlan() {
        assertThat(parse(new ServerCommand()).privateNetwork.plan()).isEmpty();
        assertThat(parse(new UpCommand()).privateNetworkPlan.plan()).isEmpty();
    }

    @Test
    void countsAreRoundedUpToWholeBitsAndTheDefaultFillsWhatIsNotGiven() {
        var plan = parse(new ServerCommand(), "--private-network-nodes", "1000").privateNetwork.plan().orElseThrow();
        assertThat(plan).isEqualTo(new PrivateAddressing("10.0.0.0/8", 10, 10)); // 1,023 nodes and the gateways' block
        assertThat(plan.nodeIndexes()).isEqualTo(1023);

        assertThat(parse(new UpCommand(), "--private-network-pool", "172.16.0.0/12", "--private-network-nodes", "15",
                "--private-network-namespaces", "33").privateNetworkPlan.plan())
                .contains(new PrivateAddressing("172.16.0.0/12", 4, 6));
        assertThat(parse(new ServerCommand(), "--private-network-nodes", "1", "--private-network-namespaces", "1")
                .privateNetwork.plan()).contains(new PrivateAddressing("10.0.0.0/8", 1, 1));
    }

    @Test
    void aPlanThatDoesNotFitOrAMalformedPoolIsRefusedNamingTheFlags() {
        assertThatThrownBy(() -> parse(new ServerCommand(), "--private-network-pool", "192.168.0.0/16",
                "--private-network-nodes", "1000").privateNetwork.plan())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("--private-network-pool, --private-network-nodes, --private-network-namespaces: ")
                .hasMessageContaining("host bits");
        assertThatThrownBy(() -> parse(new ServerCommand(), "--private-network-pool", "10.0.0/8").privateNetwork.plan())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("10.0.0/8");
        assertThatThrownBy(() -> parse(new ServerCommand(), "--private-network-nodes", "0").privateNetwork.plan())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("--private-network-nodes must be between 1 and 1048576, got 0");
    }

    private static <T> T parse(T command, String... args) {
        new CommandLine(command).setCaseInsensitiveEnumValuesAllowed(true).parseArgs(args); // as Main does
        return command;
    }
}
