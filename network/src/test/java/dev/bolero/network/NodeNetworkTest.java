package dev.bolero.network;

import static dev.bolero.network.testing.HostCommands.run;
import static dev.bolero.network.testing.HostCommands.sh;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * NodeNetwork against the real kernel, ip and nft, inside network namespaces the test makes (nothing touches the
 * host's own namespace). Guests are network namespaces joined to the bridges by veth pairs, so real packets prove
 * the rules; one test checks the tap path itself.
 */
class NodeNetworkTest {
    private static final NetworkRequest EGRESS = NetworkRequest.defaults();
    private static final NetworkRequest NO_EGRESS = new NetworkRequest(false, List.of());

    private final List<NodeNetwork> opened = new java.util.ArrayList<>();
    private Netns world;
    private InMemoryAllocationStore store;
    private NodeNetwork network;

    @BeforeEach
    void setUp() throws Exception {
        world = Netns.create();
        store = new InMemoryAllocationStore();
        network = open(new NodeNetwork(world.config(), store, world.ports()));
        network.reconcile();
    }

    @AfterEach
    void tearDown() {
        opened.forEach(NodeNetwork::close);
        if (world != null) world.close();
    }

    private NodeNetwork open(NodeNetwork n) {
        opened.add(n);
        return n;
    }

    private Attachment guest(String machineId, String namespace, NetworkRequest request) throws Exception {
        var a = network.attach(machineId, namespace, request);
        world.configureGuest(machineId, a);
        return a;
    }

    @Test
    void machinesOfOneNamespaceTalkAndMachinesOfDifferentNamespacesExchangeNothing() throws Exception {
        var a1 = guest("a1", "alpha", EGRESS);
        var a2 = guest("a2", "alpha", EGRESS);
        var b1 = guest("b1", "beta", EGRESS);
        world.serve(world.guest("a1"), "0.0.0.0", 8080);
        world.serve(world.guest("b1"), "0.0.0.0", 8080);

        assertThat(a1.subnet()).isNotEqualTo(b1.subnet());
        assertThat(world.ping(world.guest("a2"), a1.ip())).isTrue();
        assertThat(world.fetchPeer(world.guest("a2"), a1.ip(), 8080)).isEqualTo(a2.ip());

        assertThat(world.ping(world.guest("a1"), b1.ip())).isFalse();
        assertThat(world.ping(world.guest("b1"), a1.ip())).isFalse();
        assertThat(world.fetchPeer(world.guest("a2"), b1.ip(), 8080)).isEmpty();
        assertThat(world.fetchPeer(world.guest("b1"), a1.ip(), 8080)).isEmpty();
        // Not even the other namespace's gateway (a host address) answers.
        assertThat(world.ping(world.guest("a1"), b1.gateway())).isFalse();
    }

    @Test
    void aGuestCannotTakeAnotherGuestsAddress() throws Exception {
        var a1 = guest("a1", "alpha", EGRESS);
        var a2 = guest("a2", "alpha", EGRESS);
        var a3 = guest("a3", "alpha", EGRESS);
        var g2 = world.guest("a2");
        var g3 = world.guest("a3");
        sh("ip", "netns", "exec", g3, "sysctl", "-qw", "net.ipv4.conf.eth0.arp_accept=1");

        assertThat(world.ping(g2, a2.ip(), a3.ip())).as("control: own address").isTrue();

        // IP spoofing: a2 sends from a1's address.
        sh("ip", "-n", g2, "addr", "add", a1.ip() + "/32", "dev", "eth0");
        assertThat(world.ping(g2, a1.ip(), a3.ip())).isFalse();

        // ARP spoofing: a2 announces a1's address with its own MAC; a3 (which accepts gratuitous ARP) must not learn it.
        run("ip", "netns", "exec", g2, "busybox", "arping", "-U", "-c", "2", "-I", "eth0", "-s", a2.ip(), a2.ip());
        assertThat(neighbour(g3, a2.ip())).as("control: a2's own announcement is learnt").contains(a2.mac());
        run("ip", "netns", "exec", g2, "busybox", "arping", "-U", "-c", "2", "-I", "eth0", "-s", a1.ip(), a1.ip());
        assertThat(neighbour(g3, a1.ip())).doesNotContain(a2.mac());

        // MAC spoofing: a2 takes a1's MAC and address.
        sh("ip", "-n", g2, "link", "set", "eth0", "address", a1.mac());
        assertThat(world.ping(g2, a1.ip(), a3.ip())).isFalse();
        assertThat(world.ping(g2, a2.ip(), a3.ip())).isFalse();
    }

    @Test
    void aGuestCannotFillTheNodesConnectionTableForOthers() throws Exception {
        var limited = open(new NodeNetwork(world.config().withMaxConnectionsPerMachine(20), new InMemoryAllocationStore(),
                world.ports()));
        limited.reconcile();
        world.configureGuest("hog", limited.attach("hog", "alpha", EGRESS));
        world.configureGuest("calm", limited.attach("calm", "alpha", EGRESS));
        // Each ping is a flow of its own (its own ICMP id), which the node tracks for 30 s after the answer.
        int answered = 0;
        for (int i = 0; i < 30; i++) {
            if (world.ping(world.guest("hog"), Netns.UPLINK_IP)) answered++;
        }
        assertThat(answered).as("flows of one machine past its limit of 20").isEqualTo(20);
        assertThat(world.ping(world.guest("calm"), Netns.UPLINK_IP)).as("another machine's").isTrue();
    }

    private static String neighbour(String ns, String ip) throws Exception {
        return sh("ip", "-n", ns, "neigh", "show", ip);
    }

    @Test
    void egressLeavesThroughNatAndCanBeCutPerMachine() throws Exception {
        var open = guest("open", "alpha", EGRESS);
        var closed = guest("closed", "alpha", NO_EGRESS);
        world.serve(world.uplink, Netns.UPLINK_IP, 80);

        assertThat(world.fetchPeer(world.guest("open"), Netns.UPLINK_IP, 80)).isEqualTo(Netns.NODE_UPLINK_IP);
        assertThat(world.fetchPeer(world.guest("closed"), Netns.UPLINK_IP, 80)).isEmpty();
        assertThat(world.ping(world.guest("closed"), Netns.UPLINK_IP)).isFalse();
        // Cut off from the outside, not from its own namespace.
        assertThat(world.ping(world.guest("closed"), open.ip())).isTrue();
        // Nothing from outside reaches a guest unless published.
        sh("ip", "-n", world.uplink, "route", "add", "10.210.0.0/16", "via", Netns.NODE_UPLINK_IP);
        assertThat(world.ping(world.uplink, open.ip())).isFalse();
        assertThat(closed.ip()).isNotEqualTo(open.ip());
    }

    @Test
    void publishedPortsReachTheGuestAndNothingElseOnTheHostIsReachableFromGuests() throws Exception {
        var web = guest("web", "alpha", new NetworkRequest(false, List.of(new Service(Service.Protocol.TCP, 8080, 18080))));
        var other = guest("other", "beta", EGRESS);
        world.serve(world.guest("web"), "0.0.0.0", 8080);
        world.serve(world.node, "0.0.0.0", 9000); // stands for the agent's API

        assertThat(world.fetchPeer(world.uplink, Netns.NODE_UPLINK_IP, 18080)).isEqualTo(Netns.UPLINK_IP);
        assertThat(world.fetchPeer(world.node, Netns.NODE_UPLINK_IP, 18080)).isEqualTo(Netns.NODE_UPLINK_IP);
        assertThat(world.fetchPeer(world.uplink, Netns.NODE_UPLINK_IP, 9000)).as("control").isEqualTo(Netns.UPLINK_IP);

        assertThat(world.fetchPeer(world.guest("web"), web.gateway(), 9000)).isEmpty();
        assertThat(world.fetchPeer(world.guest("other"), other.gateway(), 9000)).isEmpty();
        assertThat(world.fetchPeer(world.guest("other"), Netns.NODE_UPLINK_IP, 9000)).isEmpty();
        assertThat(world.fetchPeer(world.guest("other"), Netns.NODE_UPLINK_IP, 18080)).as("another namespace").isEmpty();

        assertThatThrownBy(() -> network.attach("clash", "beta",
                new NetworkRequest(true, List.of(new Service(Service.Protocol.TCP, 80, 18080)))))
                .isInstanceOf(NetworkException.class)
                .hasMessage("attach machine clash: tcp port 18080 is already published by machine web")
                .extracting(e -> ((NetworkException) e).kind()).isEqualTo(NetworkException.Kind.CONFLICT);
        assertThat(network.attachment("clash")).isEmpty();
        var udp = network.attach("udp", "beta", new NetworkRequest(true, List.of(new Service(Service.Protocol.UDP, 53, 18080))));
        assertThat(world.tables()).contains("udp dport 18080 dnat ip to " + udp.ip() + ":53");
    }

    @Test
    void detachRemovesTapRulesAndAddressAndTheLastMachineTakesItsBridge() throws Exception {
        var a1 = network.attach("a1", "alpha", new NetworkRequest(true, List.of(new Service(Service.Protocol.TCP, 80, 8081))));
        var a2 = network.attach("a2", "alpha", NO_EGRESS);
        var b1 = network.attach("b1", "beta", EGRESS);
        var bridgeAlpha = world.devicePrefix + "br0";
        var bridgeBeta = world.devicePrefix + "br1";
        assertThat(world.ownDevices()).containsExactlyInAnyOrder(bridgeAlpha, bridgeBeta, a1.tapName(), a2.tapName(), b1.tapName());

        network.detach("b1");
        assertThat(world.ownDevices()).containsExactlyInAnyOrder(bridgeAlpha, a1.tapName(), a2.tapName());
        assertThat(world.tables()).doesNotContain(bridgeBeta).doesNotContain(b1.ip()).doesNotContain(b1.tapName());

        network.detach("a1");
        assertThat(world.ownDevices()).containsExactlyInAnyOrder(bridgeAlpha, a2.tapName());
        assertThat(world.tables()).doesNotContain(a1.tapName()).doesNotContain("dport 8081").contains(a2.ip());
        assertThat(network.attach("a3", "alpha", EGRESS).ip()).as("freed address is reused").isEqualTo(a1.ip());

        network.detach("a3");
        network.detach("a2");
        network.detach("a2"); // unknown now: nothing to do
        assertThat(world.ownDevices()).isEmpty();
        assertThat(world.tables()).isEqualTo("\n--\n\n--\n");
        assertThat(store.machines()).isEmpty();
        assertThat(store.namespaces()).isEmpty();
    }

    @Test
    void reconcileAfterARestartNeitherDuplicatesNorLosesAnythingAndLeavesOtherTablesAlone() throws Exception {
        world.inNode("nft", "add", "table", "inet", "other_" + world.id);
        world.inNode("nft", "add chain inet other_" + world.id + " c { type filter hook forward priority 10; }");
        world.inNode("nft", "add", "rule", "inet", "other_" + world.id, "c", "tcp", "dport", "9", "accept");
        var foreign = world.inNode("nft", "list", "table", "inet", "other_" + world.id);
        var a1 = guest("a1", "alpha", new NetworkRequest(true, List.of(new Service(Service.Protocol.TCP, 8080, 18080))));
        guest("a2", "alpha", NO_EGRESS);
        guest("b1", "beta", EGRESS);
        var tables = world.tables();
        var devices = world.ownDevices();

        network.close();
        var restarted = open(new NodeNetwork(world.config(), store, world.ports()));
        restarted.reconcile();
        restarted.reconcile();
        assertThat(world.tables()).isEqualTo(tables);
        assertThat(world.ownDevices()).isEqualTo(devices);

        // Damage: a port and a bridge lost, a stray device with our prefix, Bolero's table gone.
        world.inNode("ip", "link", "del", a1.tapName());
        world.inNode("ip", "link", "del", world.devicePrefix + "br1");
        world.inNode("ip", "link", "add", world.devicePrefix + "br77", "type", "bridge");
        world.inNode("ip", "tuntap", "add", "dev", world.devicePrefix + "tdeadbeef", "mode", "tap");
        world.inNode("nft", "delete", "table", "inet", world.table);
        restarted.reconcile();
        assertThat(world.tables()).isEqualTo(tables);
        assertThat(world.ownDevices()).isEqualTo(devices);
        assertThat(world.inNode("ip", "-o", "link", "show", a1.tapName())).contains("master " + world.devicePrefix + "br0").contains(",UP");
        assertThat(world.inNode("ip", "-o", "addr", "show", world.devicePrefix + "br1")).contains("10.210.1.1/24");
        assertThat(world.inNode("nft", "list", "table", "inet", "other_" + world.id)).isEqualTo(foreign);

        // The recreated port works: the guest's (new) veth end is configured again and reaches its neighbour.
        world.configureGuest("a1", a1);
        assertThat(world.ping(world.guest("a1"), restarted.attachment("a2").orElseThrow().ip())).isTrue();
    }

    @Test
    void allocatesDistinctAddressesAndSubnetsAndNamesThatFitTheKernel() throws Exception {
        var a1 = network.attach("machine-with-a-long-identifier-1", "alpha", EGRESS);
        var a2 = network.attach("machine-with-a-long-identifier-2", "alpha", EGRESS);
        var b1 = network.attach("machine-with-a-long-identifier-3", "beta", EGRESS);
        assertThat(a1).isEqualTo(new Attachment(a1.tapName(), "02:b0:0a:d2:00:02", "10.210.0.2/24", "10.210.0.1",
                List.of("198.18.0.53"), "10.210.0.0/24", List.of()));
        assertThat(a2.ipCidr()).isEqualTo("10.210.0.3/24");
        assertThat(b1.ipCidr()).isEqualTo("10.210.1.2/24");
        assertThat(List.of(a1.tapName(), a2.tapName(), b1.tapName())).doesNotHaveDuplicates()
                .allSatisfy(t -> assertThat(t).hasSizeLessThanOrEqualTo(15).startsWith(world.devicePrefix + "t"));
        assertThat(network.attachment("machine-with-a-long-identifier-2")).contains(a2);
        assertThat(world.inNode("ip", "-o", "addr", "show", world.devicePrefix + "br0")).contains("10.210.0.1/24");

        assertThatThrownBy(() -> network.attach("machine-with-a-long-identifier-1", "alpha", EGRESS))
                .isInstanceOf(NetworkException.class).hasMessageContaining("already attached");
    }

    @Test
    void runningOutOfSubnetsOrAddressesIsReported() throws Exception {
        // A /29 pool holds two /30 subnets of one machine each.
        var c = world.config();
        var tiny = open(new NodeNetwork(new NetworkConfig("10.99.0.0/29", 30, c.devicePrefix(), c.table(), c.publishAddress(),
                c.dns(), c.netns()), new InMemoryAllocationStore(), world.ports()));
        tiny.reconcile();
        assertThat(tiny.attach("m1", "alpha", EGRESS).ipCidr()).isEqualTo("10.99.0.2/30");
        assertThatThrownBy(() -> tiny.attach("m2", "alpha", EGRESS))
                .isInstanceOf(NetworkException.class).hasMessage("attach machine m2: no free address in 10.99.0.0/30");
        assertThat(tiny.attach("m3", "beta", EGRESS).ipCidr()).isEqualTo("10.99.0.6/30");
        assertThatThrownBy(() -> tiny.attach("m4", "gamma", EGRESS))
                .isInstanceOf(NetworkException.class)
                .hasMessage("attach machine m4: no free subnet for namespace gamma in pool 10.99.0.0/29")
                .extracting(e -> ((NetworkException) e).kind()).isEqualTo(NetworkException.Kind.EXHAUSTED);
    }

    @Test
    void aFailedAttachLeavesNothingBehind() throws Exception {
        guest("a1", "alpha", EGRESS);
        var tables = world.tables();
        var devices = world.ownDevices();
        var broken = open(new NodeNetwork(world.config(), store,
                (machineId, name, mac) -> List.of("link add name " + name + " type no-such-kind")));
        broken.reconcile();

        assertThatThrownBy(() -> broken.attach("b1", "beta", EGRESS))
                .isInstanceOf(NetworkException.class)
                .hasMessageStartingWith("attach machine b1: configure devices: ip -batch - exited with")
                .extracting(e -> ((NetworkException) e).kind()).isEqualTo(NetworkException.Kind.HOST);
        assertThat(store.machines()).extracting(MachineAllocation::machineId).containsExactly("a1");
        assertThat(store.namespaces()).extracting(NamespaceAllocation::namespace).containsExactly("alpha");
        assertThat(world.ownDevices()).isEqualTo(devices);
        assertThat(world.tables()).isEqualTo(tables);
    }

    @Test
    void onANodeEachMachineGetsARealTapOnItsBridge() throws Exception {
        var taps = open(new NodeNetwork(world.config(), new InMemoryAllocationStore()));
        taps.reconcile();
        var a = taps.attach("vm", "alpha", EGRESS);
        var link = world.inNode("ip", "-d", "-o", "link", "show", a.tapName());
        assertThat(link).contains("master " + world.devicePrefix + "br0").contains("tun type tap");
        taps.detach("vm");
        assertThat(world.ownDevices()).isEmpty();
    }

    @Test
    void attachBeforeReconcileIsRefused() {
        var fresh = open(new NodeNetwork(world.config(), new InMemoryAllocationStore()));
        assertThatThrownBy(() -> fresh.attach("m", "alpha", EGRESS)).isInstanceOf(IllegalStateException.class);
    }
}
