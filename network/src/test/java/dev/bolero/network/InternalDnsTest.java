package dev.bolero.network;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.xbill.DNS.ARecord;
import org.xbill.DNS.DClass;
import org.xbill.DNS.Flags;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.Section;
import org.xbill.DNS.SimpleResolver;
import org.xbill.DNS.Type;

/**
 * Real queries (dnsjava's resolver, UDP and TCP) against a running server on loopback. Loopback is a /8, so clients
 * bind 127.0.0.2 (namespace alpha), 127.0.0.3 (beta) and 127.0.0.4 (no namespace) as their source address.
 */
class InternalDnsTest {
    private static final InetAddress ALPHA = InetAddress.ofLiteral("127.0.0.2");
    private static final InetAddress BETA = InetAddress.ofLiteral("127.0.0.3");
    private static final InetAddress STRANGER = InetAddress.ofLiteral("127.0.0.4");

    private Upstream upstream;
    private InternalDns dns;

    @BeforeEach
    void start() throws Exception {
        upstream = new Upstream();
        dns = InternalDns.start(new InternalDnsConfig(0, List.of(upstream.address()), Duration.ofSeconds(2), Optional.empty()));
        dns.listenOn(Set.of(InetAddress.getLoopbackAddress()));
        dns.update(new DnsSnapshot(
                List.of(new DnsNamespace("alpha", List.of("127.0.0.2/32", "10.0.0.0/24")), new DnsNamespace("beta", List.of("127.0.0.3/32"))),
                List.of(machine("a1", "alpha", "web", "", "10.0.0.2"),
                        machine("a2", "alpha", "web", "db", "10.4.0.2"),
                        machine("a3", "alpha", "web", "", "10.8.0.2"),
                        machine("a4", "alpha", "", "db-replica", "10.4.0.3"),
                        machine("b1", "beta", "web", "", "10.0.1.2"))));
    }

    @AfterEach
    void stop() {
        if (dns != null) dns.close();
        if (upstream != null) upstream.close();
    }

    @Test
    void aMachineIsFoundByIdAndByName() throws Exception {
        assertThat(addresses(query(ALPHA, "a2.vm.alpha.internal", false))).containsExactly("10.4.0.2");
        assertThat(addresses(query(ALPHA, "db.alpha.internal", false))).containsExactly("10.4.0.2");
        assertThat(addresses(query(ALPHA, "DB-Replica.Alpha.Internal", true))).containsExactly("10.4.0.3");
        var answer = query(ALPHA, "a1.vm.alpha.internal", false);
        assertThat(answer.getHeader().getFlag(Flags.AA)).isTrue();
        assertThat(answer.getSection(Section.ANSWER).getFirst().getTTL()).isEqualTo(InternalDns.TTL_SECONDS);
    }

    @Test
    void aFleetIsAllItsRunningMachinesInRandomOrder() throws Exception {
        var orders = new HashSet<List<String>>();
        for (int i = 0; i < 30 && orders.size() < 2; i++) {
            var a = addresses(query(ALPHA, "web.alpha.internal", i % 2 == 0));
            assertThat(a).containsExactlyInAnyOrder("10.0.0.2", "10.4.0.2", "10.8.0.2");
            orders.add(a);
        }
        assertThat(orders).as("orders seen in 30 answers").hasSizeGreaterThan(1);
    }

    @Test
    void aNamespaceNeverResolvesAnothersNames() throws Exception {
        assertThat(query(BETA, "a1.vm.alpha.internal", false).getRcode()).isEqualTo(Rcode.NXDOMAIN);
        assertThat(query(BETA, "db.alpha.internal", true).getRcode()).isEqualTo(Rcode.NXDOMAIN);
        assertThat(addresses(query(BETA, "web.beta.internal", false))).containsExactly("10.0.1.2");
        assertThat(query(ALPHA, "web.beta.internal", false).getRcode()).isEqualTo(Rcode.NXDOMAIN);
        assertThat(query(ALPHA, "b1.vm.beta.internal", false).getRcode()).isEqualTo(Rcode.NXDOMAIN);
    }

    @Test
    void unknownNamesAndOtherTypes() throws Exception {
        assertThat(query(ALPHA, "nothing.alpha.internal", false).getRcode()).isEqualTo(Rcode.NXDOMAIN);
        assertThat(query(ALPHA, "a1.vm.vm.alpha.internal", false).getRcode()).isEqualTo(Rcode.NXDOMAIN);
        assertThat(query(ALPHA, "whatever.internal", false).getRcode()).isEqualTo(Rcode.NXDOMAIN);
        var aaaa = query(ALPHA, "web.alpha.internal", Type.AAAA, false);
        assertThat(aaaa.getRcode()).isEqualTo(Rcode.NOERROR);
        assertThat(aaaa.getSection(Section.ANSWER)).isEmpty();
        assertThat(upstream.questions()).isEmpty();
    }

    @Test
    void otherNamesAreForwardedUpstream() throws Exception {
        assertThat(addresses(query(ALPHA, "example.test", false))).containsExactly(Upstream.ANSWER);
        assertThat(addresses(query(BETA, "example.test", true))).containsExactly(Upstream.ANSWER);
        assertThat(upstream.questions()).contains("example.test.");
    }

    @Test
    void aSourceInNoNamespaceIsRefused() throws Exception {
        assertThat(query(STRANGER, "example.test", false).getRcode()).isEqualTo(Rcode.REFUSED);
        assertThat(query(STRANGER, "a1.vm.alpha.internal", true).getRcode()).isEqualTo(Rcode.REFUSED);
        assertThat(upstream.questions()).isEmpty();
    }

    @Test
    void anUpdateIsAnsweredByTheNextQuery() throws Exception {
        dns.update(new DnsSnapshot(List.of(new DnsNamespace("alpha", List.of("127.0.0.2/32"))),
                List.of(machine("a9", "alpha", "web", "", "10.12.0.9"))));
        assertThat(addresses(query(ALPHA, "web.alpha.internal", false))).containsExactly("10.12.0.9");
        assertThat(query(ALPHA, "a1.vm.alpha.internal", false).getRcode()).isEqualTo(Rcode.NXDOMAIN);
        assertThat(query(BETA, "web.beta.internal", false).getRcode()).isEqualTo(Rcode.REFUSED);
    }

    @Test
    void anAddressThatCannotBeBoundIsNamedAndTheOthersAreServedAndLetGo() throws Exception {
        int port = dns.listening().iterator().next().getPort();
        var second = InternalDns.start(new InternalDnsConfig(port, List.of(), Duration.ofSeconds(1), Optional.empty()));
        try (second) {
            var taken = InetAddress.getLoopbackAddress();
            var free = InetAddress.ofLiteral("127.0.0.9");
            assertThatThrownBy(() -> second.listenOn(Set.of(taken, free)))
                    .isInstanceOf(IOException.class)
                    .hasMessageContaining("listen on 127.0.0.1:" + port + ": UDP: ")
                    .hasMessageNotContaining("127.0.0.9");
            assertThat(second.listening()).containsExactly(new InetSocketAddress(free, port));
            assertThat(query(second, ALPHA, "a1.vm.alpha.internal", false).getRcode()).isEqualTo(Rcode.REFUSED);

            second.listenOn(Set.of());
            assertThat(second.listening()).isEmpty();
            // Both sockets were closed: the address and port can be bound again.
            try (var udp = new DatagramSocket(new InetSocketAddress(free, port)); var tcp = new ServerSocket()) {
                tcp.bind(new InetSocketAddress(free, port));
            }
        }
        second.listenOn(Set.of(InetAddress.ofLiteral("127.0.0.9")));
        assertThat(second.listening()).as("listening after close()").isEmpty();
    }

    private static DnsMachine machine(String id, String ns, String fleet, String name, String ip) {
        return new DnsMachine(id, ns, Optional.of(fleet).filter(f -> !f.isEmpty()), Optional.of(name).filter(n -> !n.isEmpty()), ip);
    }

    private Message query(InetAddress source, String name, boolean tcp) throws IOException {
        return query(source, name, Type.A, tcp);
    }

    private Message query(InetAddress source, String name, int type, boolean tcp) throws IOException {
        return query(dns, source, name, type, tcp);
    }

    private static Message query(InternalDns server, InetAddress source, String name, boolean tcp) throws IOException {
        return query(server, source, name, Type.A, tcp);
    }

    private static Message query(InternalDns server, InetAddress source, String name, int type, boolean tcp) throws IOException {
        var resolver = new SimpleResolver(server.listening().iterator().next());
        resolver.setLocalAddress(new InetSocketAddress(source, 0));
        resolver.setTCP(tcp);
        resolver.setTimeout(Duration.ofSeconds(5));
        return resolver.send(Message.newQuery(Record.newRecord(Name.fromString(name + "."), type, DClass.IN)));
    }

    private static List<String> addresses(Message m) {
        assertThat(m.getRcode()).as("rcode of %s", m.getQuestion()).isEqualTo(Rcode.NOERROR);
        var out = new ArrayList<String>();
        for (var r : m.getSection(Section.ANSWER)) {
            if (r instanceof ARecord a) out.add(a.getAddress().getHostAddress());
        }
        return out;
    }

    /** A resolver standing for the node's upstream: answers every A question with {@value #ANSWER}, over UDP. */
    private static final class Upstream implements AutoCloseable {
        static final String ANSWER = "192.0.2.7";
        private final DatagramSocket socket = new DatagramSocket(new InetSocketAddress(InetAddress.ofLiteral("127.0.0.1"), 0));
        private final Set<String> questions = java.util.concurrent.ConcurrentHashMap.newKeySet();

        Upstream() throws IOException {
            Thread.ofVirtual().start(this::serve);
        }

        InetSocketAddress address() {
            return new InetSocketAddress(socket.getLocalAddress(), socket.getLocalPort());
        }

        Set<String> questions() {
            return questions;
        }

        private void serve() {
            var buffer = new byte[4096];
            while (!socket.isClosed()) {
                try {
                    var packet = new DatagramPacket(buffer, buffer.length);
                    socket.receive(packet);
                    var query = new Message(java.util.Arrays.copyOf(packet.getData(), packet.getLength()));
                    questions.add(query.getQuestion().getName().toString());
                    var reply = new Message(query.getHeader().getID());
                    reply.getHeader().setFlag(Flags.QR);
                    reply.addRecord(query.getQuestion(), Section.QUESTION);
                    reply.addRecord(new ARecord(query.getQuestion().getName(), DClass.IN, 60, InetAddress.ofLiteral(ANSWER)), Section.ANSWER);
                    var wire = reply.toWire();
                    socket.send(new DatagramPacket(wire, wire.length, packet.getSocketAddress()));
                } catch (IOException e) {
                    if (!socket.isClosed()) throw new IllegalStateException(e);
                }
            }
        }

        @Override
        public void close() {
            socket.close();
        }
    }
}
