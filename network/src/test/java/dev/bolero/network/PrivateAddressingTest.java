package dev.bolero.network;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashSet;
import java.util.List;
import java.util.Set;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

class PrivateAddressingTest {

    /** A plan and one machine's place in it: namespace, node and the host offset NodeNetwork would pick (2..last-1). */
    record Place(PrivateAddressing plan, int namespace, int node, int offset) {
        int address() {
            return plan.subnetBlock(namespace, node).host(offset);
        }
    }

    @Provide
    Arbitrary<PrivateAddressing> plans() {
        var prefixes = Arbitraries.integers().between(8, 16);
        return prefixes.flatMap(prefix -> Arbitraries.integers().between(1, 8).flatMap(nodeBits ->
                Arbitraries.integers().between(1, 32 - prefix - nodeBits - 3).map(nsBits -> {
                    int network = 10 << 24 & Ipv4.Cidr.mask(prefix);
                    return new PrivateAddressing(Ipv4.format(network) + "/" + prefix, nodeBits, nsBits);
                })));
    }

    @Provide
    Arbitrary<List<Place>> placesInOnePlan() {
        return plans().flatMap(plan -> {
            int hosts = (int) plan.subnetBlock(0, 0).size();
            var place = Combinators.combine(
                    Arbitraries.integers().between(0, plan.namespaces() - 1),
                    Arbitraries.integers().between(0, plan.nodes() - 1),
                    Arbitraries.integers().between(2, hosts - 2)).as((ns, node, offset) -> new Place(plan, ns, node, offset));
            return place.list().ofMinSize(1).ofMaxSize(30);
        });
    }

    @Property
    void distinctPlacesHaveDistinctAddresses(@ForAll("placesInOnePlan") List<Place> places) {
        var keys = new HashSet<List<Integer>>();
        var addresses = new HashSet<Integer>();
        for (var p : places) {
            if (keys.add(List.of(p.namespace(), p.node(), p.offset()))) {
                assertThat(addresses.add(p.address())).as("address of %s", p).isTrue();
            }
        }
    }

    @Property
    void anAddressNamesItsNamespaceAndNode(@ForAll("placesInOnePlan") List<Place> places) {
        for (var p : places) {
            var address = Ipv4.format(p.address());
            assertThat(p.plan().namespaceOf(address)).hasValue(p.namespace());
            assertThat(p.plan().nodeOf(address)).hasValue(p.node());
            assertThat(p.address() & p.plan().namespaceMask()).isEqualTo(p.plan().namespaceValue(p.namespace()));
            assertThat(Ipv4.Cidr.parse(p.plan().nodeBlock(p.node()), "block").contains(p.address())).isTrue();
            assertThat(Ipv4.Cidr.parse(p.plan().subnet(p.namespace(), p.node()), "subnet").contains(p.address())).isTrue();
            assertThat(p.address()).isNotEqualTo(Ipv4.parse(p.plan().gateway(p.namespace(), p.node()), "gateway"));
        }
    }

    @Property
    void nodeBlocksAndSubnetsDoNotOverlap(@ForAll("plans") PrivateAddressing plan) {
        int nodes = Math.min(plan.nodes(), 8);
        int namespaces = Math.min(plan.namespaces(), 8);
        var seen = new HashSet<Integer>();
        for (int node = 0; node < nodes; node++) {
            for (int ns = 0; ns < namespaces; ns++) {
                var subnet = plan.subnetBlock(ns, node);
                assertThat(seen.add(subnet.network())).isTrue();
                assertThat(plan.poolBlock().contains(subnet.network())).isTrue();
            }
        }
    }

    @Property
    void lowestFreeIsFreeAndLowest(@ForAll("takenIndexes") Set<Integer> taken) {
        int limit = 64;
        var free = PrivateAddressing.lowestFree(taken, limit);
        if (free.isEmpty()) {
            assertThat(taken).containsAll(java.util.stream.IntStream.range(0, limit).boxed().toList());
        } else {
            assertThat(taken).doesNotContain(free.getAsInt());
            for (int i = 0; i < free.getAsInt(); i++) assertThat(taken).contains(i);
        }
    }

    @Provide
    Arbitrary<Set<Integer>> takenIndexes() {
        return Arbitraries.integers().between(0, 63).set().ofMaxSize(64);
    }

    @Example
    void addressesOutsideThePoolHaveNoNamespace() {
        var plan = PrivateAddressing.DEFAULT;
        assertThat(plan.namespaceOf("192.168.1.1")).isEmpty();
        assertThat(plan.nodeOf("192.168.1.1")).isEmpty();
    }

    @Example
    void theDefaultPlanGivesEachNamespaceASlash24PerNode() {
        var plan = PrivateAddressing.DEFAULT;
        assertThat(plan.nodes()).isEqualTo(64);
        assertThat(plan.namespaces()).isEqualTo(1024);
        assertThat(plan.subnet(5, 3)).isEqualTo("10.12.5.0/24");
        assertThat(plan.gateway(5, 3)).isEqualTo("10.12.5.1");
        assertThat(plan.nodeBlock(3)).isEqualTo("10.12.0.0/14");
        assertThat(plan.namespaceOf("10.12.5.9")).hasValue(5);
        assertThat(plan.nodeOf("10.12.5.9")).hasValue(3);
    }

    @Example
    void planRejectsWhatCannotWork() {
        assertThatThrownBy(() -> new PrivateAddressing("10.0.0.0/8", 12, 11)).hasMessageContaining("host bits");
        assertThatThrownBy(() -> new PrivateAddressing("10.0.0.0/8", 0, 11)).hasMessageContaining("at least 1");
        assertThatThrownBy(() -> PrivateAddressing.DEFAULT.subnet(1024, 0)).hasMessageContaining("namespace index 1024");
        assertThatThrownBy(() -> PrivateAddressing.DEFAULT.nodeBlock(64)).hasMessageContaining("node index 64");
    }

    @Property
    void infrastructureAddressesAreInThePoolAndInNoNodesBlock(@ForAll("plans") PrivateAddressing plan,
                                                              @ForAll int seed) {
        int count = plan.infrastructureAddresses();
        int index = Math.floorMod(seed, count);
        int address = Ipv4.parse(plan.infrastructureAddress(index), "address");
        assertThat(plan.poolBlock().contains(address)).isTrue();
        assertThat(plan.nodeOf(Ipv4.format(address)).getAsInt()).isEqualTo(plan.nodeIndexes()).isEqualTo(plan.nodes() - 1);
        for (int node = 0; node < plan.nodeIndexes(); node++) {
            assertThat(Ipv4.Cidr.parse(plan.nodeBlock(node), "block").contains(address)).as("node %s", node).isFalse();
        }
        var block = Ipv4.Cidr.parse(plan.infrastructureBlock(), "block");
        assertThat(address).isNotEqualTo(block.network()).isNotEqualTo(block.host((int) block.size() - 1));
        if (index + 1 < count) {
            assertThat(plan.infrastructureAddress(index + 1)).isNotEqualTo(Ipv4.format(address));
        }
    }

    @Example
    void theDefaultPlanKeepsItsLastNodeBlockForGateways() {
        var plan = PrivateAddressing.DEFAULT;
        assertThat(plan.nodeIndexes()).isEqualTo(63);
        assertThat(plan.infrastructureBlock()).isEqualTo("10.252.0.0/14");
        assertThat(plan.infrastructureAddress(0)).isEqualTo("10.252.0.1");
        assertThat(plan.infrastructureAddress(300)).isEqualTo("10.252.1.45");
        assertThat(plan.infrastructureAddresses()).isEqualTo((1 << 18) - 2);
        assertThatThrownBy(() -> plan.infrastructureAddress(plan.infrastructureAddresses()))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
