package dev.bolero.network;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class RulesetTest {
    private static final NetworkConfig CONFIG = NetworkConfig.defaults("192.0.2.10");

    @Test
    void withoutNamespacesTheTablesAreOnlyRemoved() {
        assertThat(Ruleset.render(CONFIG, List.of(), List.of())).isEqualTo("""
                table inet bolero {}
                delete table inet bolero
                table bridge bolero {}
                delete table bridge bolero
                """);
    }

    @Test
    void rendersIsolationAntiSpoofingNatAndPublishingFromTheAllocations() {
        var alpha = new NamespaceAllocation("alpha", 0, "10.210.0.0/24", "blbr0");
        var beta = new NamespaceAllocation("beta", 1, "10.210.1.0/24", "blbr1");
        var web = new MachineAllocation("web", "alpha", "10.210.0.2", "02:b0:0a:d2:00:02", "blt00000001", true,
                List.of(new Service(Service.Protocol.TCP, 8080, 18080), new Service(Service.Protocol.UDP, 53, 5353)));
        var db = new MachineAllocation("db", "beta", "10.210.1.2", "02:b0:0a:d2:01:02", "blt00000002", false, List.of());

        var text = Ruleset.render(CONFIG, List.of(alpha, beta), List.of(web, db));

        assertThat(text).startsWith("table inet bolero {}\ndelete table inet bolero\n")
                .contains("set bridges { type ifname; elements = { \"blbr0\", \"blbr1\" }; }")
                .contains("set isolated { type ipv4_addr; elements = { 10.210.1.2 }; }")
                .contains("iifname \"blbr0\" oifname @bridges oifname != \"blbr0\" drop")
                .contains("iifname \"blbr1\" oifname @bridges oifname != \"blbr1\" drop")
                .contains("ip daddr 192.0.2.10 tcp dport 18080 dnat ip to 10.210.0.2:8080")
                .contains("ip daddr 192.0.2.10 udp dport 5353 dnat ip to 10.210.0.2:53")
                .contains("ip saddr 10.210.0.0/24 oifname != \"blbr0\" masquerade")
                .contains("ip saddr 10.210.1.0/24 oifname != \"blbr1\" masquerade")
                .contains("\"blt00000001\" . 02:b0:0a:d2:00:02 . 10.210.0.2, \"blt00000002\" . 02:b0:0a:d2:01:02 . 10.210.1.2")
                .contains("iifname != \"blt*\" accept");
        assertThat(text.lines().filter(l -> l.startsWith("table ")).toList()).containsExactly(
                "table inet bolero {}", "table bridge bolero {}", "table inet bolero {", "table bridge bolero {");
    }
}
