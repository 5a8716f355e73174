package dev.bolero.network;

import static dev.bolero.network.testing.HostCommands.run;
import static dev.bolero.network.testing.HostCommands.sh;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bolero.network.testing.HostCommands;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.BindException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.PortUnreachableException;
import java.net.ServerSocket;
import java.net.SocketTimeoutException;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.xbill.DNS.DClass;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.Type;

/**
 * The private network across two nodes, with real parts only: each "node" is a network namespace with its own
 * NodeNetwork (bridges, nftables) and WireGuardLink (wireguard-go where the kernel has no WireGuard), the two joined by
 * a veth "underlay"; guests are network namespaces on the nodes' bridges. Alpha has a machine on each node, beta one on
 * node 2; node 2 also serves internal DNS for a while. The tests run in order on one world; {@link #tearDown()} closes
 * the links and deletes every namespace even after a failure. (Deleting a namespace does not end a wireguard-go in it:
 * the process keeps the namespace alive. So the links are closed first, and any wireguard-go of this test's links
 * still running after that is killed by its pid.)
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class PrivateNetworkTest {
    private static final PrivateAddressing PLAN = PrivateAddressing.DEFAULT;
    private static final int ALPHA = 1;
    private static final int BETA = 2;
    private static final int GAMMA = 3;
    private static final int PORT = 51820;
    private static final int HTTP = 8080;
    private static final int BLOB_BYTES = 1 << 20;

    private final String id = HostCommands.randomId();
    private final String marker = "BOLERO-PRIVATE-MARKER-" + id;
    private final List<String> namespaces = new ArrayList<>();
    private final List<Process> processes = new ArrayList<>();
    private final Node[] nodes = new Node[3];
    private Path dir;
    private String blobSha256;
    private Attachment a1;
    private Attachment a2;
    private Attachment b2;

    /** One node: its namespace, underlay address, key, link and node network. */
    private record Node(int index, String netns, String underlay, NodeKey key, WireGuardLinkConfig linkConfig,
            WireGuardLink link, NodeNetwork network) {
        WireGuardPeer asPeer() {
            return new WireGuardPeer(key.publicKey(), underlay + ":" + PORT, List.of(PLAN.nodeBlock(index)));
        }
    }

    @BeforeAll
    void setUp() throws Exception {
        HostCommands.assumeRootWith("to create network namespaces", "ip", "nft", "wg", "wireguard-go", "busybox", "curl", "tcpdump");
        dir = Files.createTempDirectory("bolero-privnet-" + id);
        try {
            addNetns("n1");
            addNetns("n2");
            sh("ip", "-n", ns("n1"), "link", "add", "ul0", "type", "veth", "peer", "name", "ul0", "netns", ns("n2"));
            for (int i = 1; i <= 2; i++) {
                // An IPv4-only underlay: the capture must show nothing but WireGuard, not the kernel's IPv6 chatter.
                sh("ip", "netns", "exec", ns("n" + i), "sysctl", "-qw", "net.ipv6.conf.ul0.disable_ipv6=1");
                sh("ip", "-n", ns("n" + i), "addr", "add", underlay(i) + "/24", "dev", "ul0");
                sh("ip", "-n", ns("n" + i), "link", "set", "ul0", "up");
                nodes[i] = node(i);
            }
            nodes[1].link().syncPeers(List.of(nodes[2].asPeer()));
            nodes[2].link().syncPeers(List.of(nodes[1].asPeer()));

            a1 = guest(nodes[1], "a1", "alpha", ALPHA, new NetworkRequest(false, List.of()));
            a2 = guest(nodes[2], "a2", "alpha", ALPHA, NetworkRequest.defaults());
            b2 = guest(nodes[2], "b2", "beta", BETA, NetworkRequest.defaults());

            var www = Files.createDirectories(dir.resolve("www"));
            var blob = new StringBuilder();
            for (int i = 0; blob.length() < BLOB_BYTES; i++) blob.append(marker).append(' ').append(i).append('\n');
            var bytes = blob.substring(0, BLOB_BYTES).getBytes(StandardCharsets.US_ASCII);
            Files.write(www.resolve("blob"), bytes);
            blobSha256 = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
            for (var g : List.of("a1", "a2", "b2")) serve(g);
        } catch (Exception | AssertionError e) {
            tearDown();
            throw e;
        }
    }

    @AfterAll
    void tearDown() {
        for (var p : processes) {
            p.destroyForcibly();
        }
        for (var n : nodes) {
            if (n == null) continue;
            try {
                n.link().close();
            } catch (Exception e) {
                System.err.println("cleanup: close link " + n.link().name() + ": " + e);
            }
            n.network().close();
        }
        for (var n : nodes) {
            if (n == null) continue;
            try {
                for (long pid : wireguardGoProcesses(n.link().name())) {
                    System.err.println("cleanup: killing wireguard-go " + n.link().name() + " pid " + pid);
                    ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
                }
            } catch (Exception e) {
                System.err.println("cleanup: wireguard-go of " + n.link().name() + ": " + e);
            }
        }
        for (var n : namespaces.reversed()) {
            try {
                run("ip", "netns", "del", n);
            } catch (Exception e) {
                System.err.println("cleanup: ip netns del " + n + ": " + e);
            }
        }
        for (var g : List.of("a1", "a2", "b2", "c2")) {
            var etc = Path.of("/etc/netns", ns(g));
            try {
                Files.deleteIfExists(etc.resolve("resolv.conf"));
                Files.deleteIfExists(etc);
            } catch (Exception e) {
                System.err.println("cleanup: " + etc + ": " + e);
            }
        }
        if (dir != null) {
            try (var files = Files.walk(dir)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            } catch (Exception e) {
                System.err.println("cleanup: " + dir + ": " + e);
            }
        }
    }

    @Test
    @Order(1)
    void addressesComeFromThePlanAndNameTheirNamespaceAndNode() throws Exception {
        assertThat(a1.subnet()).isEqualTo(PLAN.subnet(ALPHA, 1));
        assertThat(a2.subnet()).isEqualTo(PLAN.subnet(ALPHA, 2));
        assertThat(b2.subnet()).isEqualTo(PLAN.subnet(BETA, 2));
        assertThat(PLAN.namespaceOf(a1.ip())).hasValue(ALPHA);
        assertThat(PLAN.nodeOf(a2.ip())).hasValue(2);
        assertThat(nodes[1].link().kind()).isIn(WireGuardLink.Kind.KERNEL, WireGuardLink.Kind.USERSPACE);
        assertThat(run("ip", "-n", nodes[1].netns(), "link", "show", nodes[1].link().name()).out()).contains("mtu 1420");
        System.out.println("WireGuard link kind: " + nodes[1].link().kind());
    }

    @Test
    @Order(2)
    void machinesOfOneNamespaceReachEachOtherAcrossNodes() throws Exception {
        assertThat(eventuallyPings("a1", a2.ip())).as("ping a1 -> a2").isTrue();
        assertThat(eventuallyPings("a2", a1.ip())).as("ping a2 -> a1").isTrue();
        assertThat(fetch("a1", a2.ip(), "/cgi-bin/peer").out().strip()).isEqualTo(a1.ip());
        assertThat(fetch("a2", a1.ip(), "/cgi-bin/peer").out().strip()).isEqualTo(a2.ip());
        assertThat(nodes[1].link().peers()).singleElement().satisfies(s -> assertThat(s.latestHandshake()).isPresent());
    }

    @Test
    @Order(3)
    void aMebibyteCrossesIntactAndTheUnderlayCarriesOnlyWireGuard() throws Exception {
        var capture = dir.resolve("underlay.pcap");
        var tcpdump = new ProcessBuilder("ip", "netns", "exec", ns("n1"), "tcpdump", "-i", "ul0", "-n", "-U", "-s", "0",
                "-w", capture.toString()).redirectErrorStream(true).start();
        processes.add(tcpdump);
        var err = new BufferedReader(new InputStreamReader(tcpdump.getInputStream(), StandardCharsets.UTF_8));
        var first = err.readLine();
        assertThat(first).as("tcpdump started").contains("listening on");
        long before = underlayBytes();
        try {
            var r = run("ip", "netns", "exec", ns("a1"), "sh", "-c",
                    "curl -sS --max-time 60 http://" + a2.ip() + ":" + HTTP + "/blob | sha256sum");
            assertThat(r.exit()).as(r.out()).isZero();
            assertThat(r.out()).startsWith(blobSha256);
        } finally {
            tcpdump.destroy();
            assertThat(tcpdump.waitFor(10, TimeUnit.SECONDS)).isTrue();
        }
        var raw = Files.readAllBytes(capture);
        assertThat(new String(raw, StandardCharsets.ISO_8859_1)).doesNotContain(marker);
        var packets = sh("tcpdump", "-r", capture.toString(), "-n", "ip or ip6").lines()
                .filter(line -> !line.startsWith("reading from file"))
                .toList();
        assertThat(packets).allSatisfy(line -> assertThat(line).contains(".%d: UDP".formatted(PORT)));
        // The capture shows what kind of traffic crossed; the device's own counters show how much did. A capture
        // is no meter: with UDP segmentation offload it sees one datagram per batch, and it may drop packets.
        long carried = underlayBytes() - before;
        assertThat(carried).as("bytes through the underlay device").isGreaterThan(BLOB_BYTES);
    }

    /** Bytes received plus sent by node 1's underlay device, from its kernel counters. */
    private long underlayBytes() throws Exception {
        var out = sh("ip", "netns", "exec", ns("n1"), "cat", "/sys/class/net/ul0/statistics/rx_bytes",
                "/sys/class/net/ul0/statistics/tx_bytes");
        return out.lines().mapToLong(line -> Long.parseLong(line.strip())).sum();
    }

    @Test
    @Order(4)
    void machinesOfDifferentNamespacesExchangeNothingAcrossNodes() throws Exception {
        assertThat(pings("b2", a1.ip())).as("ping b2 -> a1").isFalse();
        assertThat(pings("a1", b2.ip())).as("ping a1 -> b2").isFalse();
        // Dropped, not rejected: the client times out (curl exit 28) instead of being refused (exit 7).
        assertThat(fetch("b2", a1.ip(), "/cgi-bin/peer").exit()).isEqualTo(28);
        assertThat(fetch("a1", b2.ip(), "/cgi-bin/peer").exit()).isEqualTo(28);
        // Nor does beta reach alpha's gateway on the other node, or the other node itself through the link.
        assertThat(pings("b2", PLAN.gateway(ALPHA, 1))).isFalse();
        assertThat(fetch("a2", a1.ip(), "/cgi-bin/peer").exit()).as("alpha still talks").isZero();
    }

    @Test
    @Order(5)
    void machinesFindEachOtherByNameAcrossNodesAndOnlyInTheirNamespace() throws Exception {
        var node2 = nodes[2];
        // A resolver of the host's own already holds port 53 on one address (systemd-resolved's stub, say): the
        // wildcard cannot be bound beside it, the bridges' gateways can.
        try (var stub = Port53.hold(node2.netns(), "127.0.0.53");
             var dns = InternalDns.start(new InternalDnsConfig(53, List.of(), Duration.ofSeconds(1), Optional.of(node2.netns())))) {
            assertThatThrownBy(() -> Port53.hold(node2.netns(), "0.0.0.0").close()).isInstanceOf(BindException.class);
            node2.network().watchGateways(gateways -> {
                try {
                    dns.listenOn(gateways);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
            try {
                assertThat(dns.listening()).containsExactlyInAnyOrder(dnsAt(a2.gateway()), dnsAt(b2.gateway()));
                dns.update(new DnsSnapshot(
                        List.of(new DnsNamespace("alpha", List.of(a2.subnet())), new DnsNamespace("beta", List.of(b2.subnet()))),
                        List.of(new DnsMachine("a1", "alpha", Optional.of("web"), Optional.empty(), a1.ip()),
                                new DnsMachine("a2", "alpha", Optional.of("web"), Optional.of("second"), a2.ip()),
                                new DnsMachine("b2", "beta", Optional.of("web"), Optional.empty(), b2.ip()))));
                // ip netns exec bind-mounts /etc/netns/<name>/resolv.conf over /etc/resolv.conf: the guest's resolver.
                var etc = Files.createDirectories(Path.of("/etc/netns", ns("a2")));
                Files.writeString(etc.resolve("resolv.conf"), "nameserver " + a2.gateway() + "\nsearch alpha.internal\n");

                assertThat(fetch("a2", "a1.vm.alpha.internal", "/cgi-bin/peer").out().strip()).isEqualTo(a2.ip());
                var web = run("ip", "netns", "exec", ns("a2"), "busybox", "nslookup", "web.alpha.internal", a2.gateway()).out();
                assertThat(web).contains(a1.ip()).contains(a2.ip()).doesNotContain(b2.ip());
                var fromBeta = run("ip", "netns", "exec", ns("b2"), "busybox", "nslookup", "a1.vm.alpha.internal", b2.gateway()).out();
                assertThat(fromBeta).contains("NXDOMAIN").doesNotContain(a1.ip());
                assertThat(run("ip", "netns", "exec", ns("b2"), "busybox", "nslookup", "web.beta.internal", b2.gateway()).out())
                        .contains(b2.ip()).doesNotContain(a1.ip());
                // beta's machine cannot even ask alpha's gateway: dropped by the node.
                var toAlphaGateway = run("ip", "netns", "exec", ns("b2"), "busybox", "timeout", "3", "busybox", "nslookup",
                        "web.alpha.internal", a2.gateway()).out();
                assertThat(toAlphaGateway).doesNotContain(a1.ip());

                // The node's other addresses have no DNS server at all: a query there is not even refused.
                for (var other : List.of(node2.underlay(), "127.0.0.1")) {
                    assertThat(answersDns(node2.netns(), other)).as("a DNS answer on %s:53", other).isFalse();
                }

                // A namespace's bridge appearing gets a listener at once, and its going closes it.
                addNetns("c2");
                var c2 = guest(node2, "c2", "gamma", GAMMA, NetworkRequest.defaults());
                assertThat(dns.listening()).contains(dnsAt(c2.gateway()));
                dns.update(new DnsSnapshot(List.of(new DnsNamespace("gamma", List.of(c2.subnet()))),
                        List.of(new DnsMachine("c2", "gamma", Optional.of("api"), Optional.empty(), c2.ip()))));
                assertThat(run("ip", "netns", "exec", ns("c2"), "busybox", "nslookup", "api.gamma.internal", c2.gateway()).out())
                        .contains(c2.ip());
                node2.network().detach("c2");
                assertThat(dns.listening()).containsExactlyInAnyOrder(dnsAt(a2.gateway()), dnsAt(b2.gateway()));
                assertThat(sh("ip", "netns", "exec", node2.netns(), "ss", "-Hlnu")).doesNotContain(c2.gateway() + ":53");
                assertThat(sh("ip", "netns", "exec", node2.netns(), "ss", "-Hlnt")).doesNotContain(c2.gateway() + ":53");
            } finally {
                node2.network().unwatchGateways();
                node2.network().detach("c2");
            }
        }
        assertThat(sh("ip", "netns", "exec", node2.netns(), "ss", "-Hlnu")).doesNotContain(":53 ");
        assertThat(sh("ip", "netns", "exec", node2.netns(), "ss", "-Hlnt")).doesNotContain(":53 ");
    }

    @Test
    @Order(6)
    void syncingTheSamePeersAgainChangesNothing() throws Exception {
        var before = nodes[1].link().peers();
        nodes[1].link().syncPeers(List.of(nodes[2].asPeer()));
        assertThat(nodes[1].link().peers()).extracting(WireGuardLink.PeerStatus::publicKey, WireGuardLink.PeerStatus::endpoint,
                WireGuardLink.PeerStatus::allowedIps).containsExactly(
                org.assertj.core.groups.Tuple.tuple(nodes[2].key().publicKey(), Optional.of(nodes[2].underlay() + ":" + PORT),
                        List.of(PLAN.nodeBlock(2))));
        assertThat(nodes[1].link().peers().getFirst().latestHandshake()).isEqualTo(before.getFirst().latestHandshake());
    }

    @Test
    @Order(7)
    void aRestartedAgentAdoptsTheLinkAndItsPeers() throws Exception {
        var old = nodes[1];
        var adopted = WireGuardLink.open(old.linkConfig());
        nodes[1] = new Node(old.index(), old.netns(), old.underlay(), NodeKey.loadOrCreate(old.key().file()), old.linkConfig(),
                adopted, old.network());
        assertThat(nodes[1].key()).isEqualTo(old.key());
        assertThat(adopted.kind()).isEqualTo(old.link().kind());
        assertThat(adopted.peers()).singleElement().satisfies(s -> assertThat(s.matches(nodes[2].asPeer())).isTrue());
        assertThat(wireguardGoProcesses(adopted.name())).hasSizeLessThanOrEqualTo(1);
        assertThat(pings("a1", a2.ip())).isTrue();
    }

    @Test
    @Order(8)
    void removingAPeerStopsTrafficAndAddingItBackRestoresIt() throws Exception {
        nodes[1].link().syncPeers(List.of());
        assertThat(nodes[1].link().peers()).isEmpty();
        assertThat(pings("a1", a2.ip())).isFalse();
        assertThat(pings("a2", a1.ip())).isFalse();
        nodes[1].link().syncPeers(List.of(nodes[2].asPeer()));
        assertThat(eventuallyPings("a1", a2.ip())).isTrue();
    }

    @Test
    @Order(9)
    void closingLeavesNothingBehind() throws Exception {
        for (int i = 1; i <= 2; i++) {
            var n = nodes[i];
            n.link().close();
            n.link().close();
            assertThat(run("ip", "-n", n.netns(), "link", "show", n.link().name()).exit()).isNotZero();
            assertThat(sh("ip", "-n", n.netns(), "route", "show")).doesNotContain(n.link().name()).doesNotContain(PLAN.pool());
            assertThat(WireGuardLink.userspaceSocket(n.link().name())).doesNotExist();
            assertThat(wireguardGoProcesses(n.link().name())).isEmpty();
            for (var m : List.of("a1", "a2", "b2")) n.network().detach(m);
            assertThat(HostCommands.nftTables(HostCommands.inNetns(n.netns()), table(i))).doesNotContain("table");
            assertThat(HostCommands.devices(HostCommands.inNetns(n.netns()), devicePrefix(i))).isEmpty();
        }
    }

    private Node node(int i) throws Exception {
        var key = NodeKey.loadOrCreate(dir.resolve("n" + i + "/wireguard.key"));
        var linkName = "wg" + id + i;
        var linkConfig = new WireGuardLinkConfig(linkName, Optional.of(ns("n" + i)), PORT, key,
                WireGuardLinkConfig.DEFAULT_MTU, List.of(PLAN.pool()));
        var link = WireGuardLink.open(linkConfig);
        Node node;
        try {
            var config = new NetworkConfig("10.210.0.0/16", 24, devicePrefix(i), table(i), underlay(i), List.of(),
                    Optional.of(ns("n" + i))).withPrivateNetwork(new PrivateNetwork(PLAN, i, linkName, 53));
            var guests = Map.of(1, List.of("a1"), 2, List.of("a2", "b2"));
            var network = new NodeNetwork(config, new InMemoryAllocationStore(), (machineId, name, mac) -> List.of(
                    "link add name " + name + " type veth peer name eth0 address " + mac + " netns " + ns(machineId)));
            node = new Node(i, ns("n" + i), underlay(i), key, linkConfig, link, network);
            for (var g : guests.get(i)) addNetns(g);
            network.reconcile();
        } catch (Exception | AssertionError e) {
            link.close();
            throw e;
        }
        return node;
    }

    private Attachment guest(Node node, String machine, String namespace, int index, NetworkRequest request) throws Exception {
        var a = node.network().attach(machine, namespace, index, request);
        sh("ip", "-n", ns(machine), "addr", "add", a.ipCidr(), "dev", "eth0");
        sh("ip", "-n", ns(machine), "link", "set", "eth0", "up");
        sh("ip", "-n", ns(machine), "route", "add", "default", "via", a.gateway());
        return a;
    }

    private void serve(String guest) throws Exception {
        var cgi = Files.createDirectories(dir.resolve("www/cgi-bin"));
        var peer = cgi.resolve("peer");
        if (!Files.exists(peer)) {
            Files.writeString(peer, "#!/bin/sh\nprintf 'Content-Type: text/plain\\r\\n\\r\\n%s\\n' \"$REMOTE_ADDR\"\n");
            peer.toFile().setExecutable(true);
        }
        var p = new ProcessBuilder("ip", "netns", "exec", ns(guest), "busybox", "httpd", "-f", "-p", "0.0.0.0:" + HTTP,
                "-h", dir.resolve("www").toString()).redirectErrorStream(true)
                .redirectOutput(dir.resolve("httpd-" + guest + ".log").toFile()).start();
        processes.add(p);
        for (int i = 0; i < 100; i++) {
            if (run("ip", "netns", "exec", ns(guest), "ss", "-Hltn", "sport", "=", ":" + HTTP).out().contains(":" + HTTP)) return;
            Thread.sleep(50);
        }
        throw new IllegalStateException("httpd in " + guest + " not listening");
    }

    private HostCommands.Result fetch(String from, String address, String path) throws Exception {
        return run("ip", "netns", "exec", ns(from), "curl", "-sS", "--max-time", "2", "http://" + address + ":" + HTTP + path);
    }

    private boolean pings(String from, String target) throws Exception {
        return run("ip", "netns", "exec", ns(from), "busybox", "ping", "-c", "1", "-W", "1", target).exit() == 0;
    }

    /** The first packets wait for a handshake; allow a few tries. */
    private boolean eventuallyPings(String from, String target) throws Exception {
        for (int i = 0; i < 5; i++) {
            if (pings(from, target)) return true;
        }
        return false;
    }

    private static List<Long> wireguardGoProcesses(String link) throws Exception {
        var found = new ArrayList<Long>();
        try (var procs = Files.list(Path.of("/proc"))) {
            for (var p : procs.filter(p -> p.getFileName().toString().matches("\\d+")).toList()) {
                try {
                    var cmdline = Files.readString(p.resolve("cmdline"), StandardCharsets.ISO_8859_1);
                    if (cmdline.equals("wireguard-go\0" + link + "\0")) found.add(Long.parseLong(p.getFileName().toString()));
                } catch (java.io.IOException gone) {
                    // the process ended while we looked
                }
            }
        }
        return found;
    }

    private static InetSocketAddress dnsAt(String address) {
        return new InetSocketAddress(InetAddress.ofLiteral(address), 53);
    }

    /**
     * Whether anything answers a DNS query sent from network namespace {@code netns} to {@code address:53} (even a
     * refusal counts); a port without a server answers with ICMP port unreachable, which is no answer.
     */
    private static boolean answersDns(String netns, String address) throws Exception {
        return NetnsThread.call(netns, () -> {
            try (var socket = new DatagramSocket()) {
                socket.connect(new InetSocketAddress(InetAddress.ofLiteral(address), 53));
                socket.setSoTimeout(2000);
                var query = Message.newQuery(org.xbill.DNS.Record.newRecord(Name.fromString("web.alpha.internal."), Type.A,
                        DClass.IN)).toWire();
                socket.send(new DatagramPacket(query, query.length));
                var buffer = new byte[512];
                socket.receive(new DatagramPacket(buffer, buffer.length));
                return true;
            } catch (PortUnreachableException | SocketTimeoutException e) {
                return false;
            }
        });
    }

    /** UDP and TCP sockets holding port 53 of one address in a network namespace, as a host's own resolver would. */
    private record Port53(DatagramSocket udp, ServerSocket tcp) implements AutoCloseable {
        static Port53 hold(String netns, String address) throws Exception {
            return NetnsThread.call(netns, () -> {
                var at = new InetSocketAddress(InetAddress.ofLiteral(address), 53);
                var udp = new DatagramSocket(at);
                try {
                    var tcp = new ServerSocket();
                    tcp.bind(at);
                    return new Port53(udp, tcp);
                } catch (IOException e) {
                    udp.close();
                    throw e;
                }
            });
        }

        @Override
        public void close() throws IOException {
            udp.close();
            tcp.close();
        }
    }

    private String ns(String name) {
        return "bp" + id + name;
    }

    private void addNetns(String name) throws Exception {
        namespaces.add(ns(name));
        HostCommands.addNetns(ns(name));
    }

    private static String underlay(int i) {
        return "198.18.1." + i;
    }

    private String devicePrefix(int i) {
        return "p" + id.substring(0, 3) + i;
    }

    private String table(int i) {
        return "bolero_p" + id + i;
    }
}
