package dev.bolero.network;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Set;
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
                List.of(new Service(Service.Protocol.TCP, 8080, 18080), new Service(Service.Protocol.UDP, 53, 5353)), Set.of());
        var db = new MachineAllocation("db", "beta", "10.210.1.2", "02:b0:0a:d2:01:02", "blt00000002", false, List.of(), Set.of());

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

    @Test
    void withAPrivateNetworkTheLinkCarriesOnlyTrafficWithinANamespace() {
        var config = CONFIG.withPrivateNetwork(new PrivateNetwork(PrivateAddressing.DEFAULT, 3, "blwg", 53));
        var alpha = new NamespaceAllocation("alpha", 5, PrivateAddressing.DEFAULT.subnet(5, 3), "blbr5");
        var web = new MachineAllocation("web", "alpha", "10.12.5.2", "02:b0:0a:0c:05:02", "blt00000001", false, List.of(), Set.of(8080));

        var text = Ruleset.render(config, List.of(alpha), List.of(web));

        // 10.0.0.0/8 with 6 node and 10 namespace bits: the namespace is in bits 8-17 of the address.
        assertThat(text)
                .contains("iifname \"blwg\" oifname \"blbr5\" ip daddr 10.12.5.0/24 ip saddr & 255.3.255.0 == 10.0.5.0 accept")
                .contains("iifname \"blbr5\" oifname \"blwg\" ip saddr 10.12.5.0/24 ip daddr & 255.3.255.0 == 10.0.5.0 accept")
                .contains("iifname \"blbr5\" ip daddr 10.12.5.1 meta l4proto { tcp, udp } th dport 53 accept")
                .contains("oifname \"blwg\" tcp flags syn tcp option maxseg size set rt mtu")
                .contains("set gateway_ports { type ipv4_addr . inet_service; elements = { 10.12.5.2 . 8080 }; }")
                .contains("iifname \"blwg\" ip saddr 10.252.0.0/14 ip daddr . tcp dport @gateway_ports accept");
        // A gateway's address (namespace bits 0) must not pass for one of namespace 0's, and no machine opens to one.
        var gatewayRules = text.indexOf("iifname \"blwg\" ip saddr 10.252.0.0/14 drop");
        assertThat(gatewayRules).isPositive().isLessThan(text.indexOf("== 10.0.5.0 accept"));
        assertThat(text.indexOf("oifname \"blwg\" ip daddr 10.252.0.0/14 drop")).isPositive()
                .isLessThan(text.indexOf("== 10.0.5.0 accept"));
        var forward = text.substring(text.indexOf("chain forward"), text.indexOf("chain publish"));
        assertThat(forward.indexOf("iifname \"blwg\" drop")).isGreaterThan(forward.indexOf("== 10.0.5.0 accept"))
                .isLessThan(forward.indexOf("ip saddr @isolated"));
        var postrouting = text.substring(text.indexOf("chain postrouting"));
        assertThat(postrouting.indexOf("oifname \"blwg\" accept")).isLessThan(postrouting.indexOf("masquerade"));
    }
}
