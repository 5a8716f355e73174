package dev.bolero.network;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.BindException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xbill.DNS.ARecord;
import org.xbill.DNS.DClass;
import org.xbill.DNS.Flags;
import org.xbill.DNS.Message;
import org.xbill.DNS.OPTRecord;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Section;
import org.xbill.DNS.SimpleResolver;
import org.xbill.DNS.Type;

/**
 * A node's internal DNS server, over UDP and TCP on the addresses it is given. It answers, per namespace,
 * <ul>
 *   <li>{@code <machine-id>.vm.<ns>.internal}: that machine's private address;
 *   <li>{@code <fleet>.<ns>.internal}: the addresses of all the fleet's running machines, in a new random order for
 *       every answer;
 *   <li>{@code <name>.<ns>.internal}: the machine with that name (a fleet of the same name wins);
 * </ul>
 * to queries from that namespace only: the namespace is the one whose {@link DnsNamespace#sources() sources} hold the
 * query's source address. Any other {@code .internal} name, and every name of another namespace, is {@code NXDOMAIN};
 * other record types of an existing name get an empty answer. Names outside {@code .internal} are forwarded to the
 * upstream resolvers. A source in no namespace is {@code REFUSED}, so the server is no open resolver.
 *
 * <p>Where it listens: on a node, exactly the gateway addresses of the namespaces' bridges, which are what guests ask
 * ({@link #listenOn}, fed by {@link NodeNetwork#watchGateways}). It never binds the wildcard address: a wildcard
 * listener would answer on every address of the host, and could not start at all beside a resolver that already holds
 * port 53 on one address (systemd-resolved on 127.0.0.53, dnsmasq on a bridge). A listener per gateway was chosen over
 * one listener on a dedicated address plus an nftables DNAT of {@code gateway:53} to it: the DNAT target would have
 * to be an address of its own (a loopback one needs {@code route_localnet} on every bridge), and the guest's query would
 * reach the server with a rewritten destination, so its replies would depend on conntrack; bound to the gateway, the
 * server sees and answers exactly what the guest sent.
 *
 * <p>{@link #update} replaces the records at once: the next query sees them. Answers carry a TTL of
 * {@value #TTL_SECONDS} s so that resolvers follow machines that start, stop and move. Each query is served on its own
 * virtual thread.
 */
public final class InternalDns implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(InternalDns.class);
    static final long TTL_SECONDS = 2;
    private static final String DOMAIN = "internal";
    private static final int UDP_DEFAULT = 512;
    private static final int UDP_MAX = 4096;
    private static final int EDNS_PAYLOAD = 1232;
    private static final int TCP_IDLE_MS = 10_000;
    private static final int BIND_ATTEMPTS = 16;
    private static final Duration CLOSE_WAIT = Duration.ofSeconds(5);

    private final InternalDnsConfig config;
    /** The listeners by address; guarded by {@code this}. */
    private final Map<InetAddress, Listener> listeners = new HashMap<>();
    private volatile Index index = Index.of(DnsSnapshot.EMPTY);
    /** Guarded by {@code this}. */
    private boolean closed;

    private InternalDns(InternalDnsConfig config) {
        this.config = config;
    }

    /**
     * A server answering an empty snapshot, listening nowhere until {@link #listenOn} gives it addresses.
     */
    public static InternalDns start(InternalDnsConfig config) {
        return new InternalDns(Objects.requireNonNull(config, "config"));
    }

    /**
     * Listens on exactly {@code addresses}, at {@link InternalDnsConfig#port()} over UDP and TCP, in
     * {@link InternalDnsConfig#netns()}: binds the addresses not yet served and closes the listeners (and their open
     * TCP connections) of those no longer listed. Every address that can be bound is served even when another cannot;
     * one that failed is tried again by the next call that lists it. After {@link #close()} this does nothing.
     *
     * @throws IOException naming each address that could not be bound and why (e.g. {@code 10.0.1.1:53: Address already
     *     in use}), or the network namespace that could not be joined
     */
    public synchronized void listenOn(Set<? extends InetAddress> addresses) throws IOException {
        if (closed) return;
        var wanted = Set.copyOf(addresses);
        for (var gone : new ArrayList<>(listeners.keySet())) {
            if (!wanted.contains(gone)) {
                var listener = listeners.remove(gone);
                listener.close();
                log.info("internal DNS stopped listening address={}", listener);
            }
        }
        var fresh = wanted.stream().filter(a -> !listeners.containsKey(a)).sorted(Comparator.comparing(InetAddress::getHostAddress)).toList();
        if (fresh.isEmpty()) return;
        var failures = new ArrayList<String>();
        var bound = inNetns(() -> {
            var out = new ArrayList<Listener>();
            for (var a : fresh) {
                try {
                    out.add(bind(a));
                } catch (IOException e) {
                    failures.add(a.getHostAddress() + ":" + config.port() + ": " + e.getMessage());
                }
            }
            return out;
        });
        for (var listener : bound) {
            listeners.put(listener.address().getAddress(), listener);
            listener.start();
            log.info("internal DNS listening address={} upstreams={}", listener, config.upstreams());
        }
        if (!failures.isEmpty()) throw new IOException("internal DNS: listen on " + String.join("; ", failures));
    }

    /** Where the server listens now, UDP and TCP (the same port for both on each address). */
    public synchronized Set<InetSocketAddress> listening() {
        var out = new HashSet<InetSocketAddress>();
        for (var l : listeners.values()) out.add(l.address());
        return Set.copyOf(out);
    }

    /** Makes {@code snapshot} what the server answers, from the next query on. */
    public void update(DnsSnapshot snapshot) {
        index = Index.of(Objects.requireNonNull(snapshot, "snapshot"));
    }

    /** Stops serving: closes every listener's sockets and open TCP connections; later {@link #listenOn} calls bind nothing. */
    @Override
    public synchronized void close() {
        closed = true;
        listeners.values().forEach(Listener::close);
        listeners.clear();
    }

    private <T> T inNetns(Callable<T> work) throws IOException {
        if (config.netns().isEmpty()) {
            try {
                return work.call();
            } catch (IOException | RuntimeException e) {
                throw e;
            } catch (Exception e) {
                throw new IOException("internal DNS: " + e.getMessage(), e);
            }
        }
        try {
            return NetnsThread.call(config.netns().get(), work);
        } catch (IOException | RuntimeException e) {
            throw e;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("internal DNS in " + config.netns().get() + ": interrupted", e);
        } catch (Exception e) {
            throw new IOException("internal DNS in " + config.netns().get() + ": " + e.getMessage(), e);
        }
    }

    /** Binds UDP and then TCP on {@code address}, on the same port (a free one for both when the config says 0). */
    private Listener bind(InetAddress address) throws IOException {
        IOException last = null;
        for (int attempt = 0; attempt < BIND_ATTEMPTS; attempt++) {
            DatagramSocket udp;
            try {
                udp = new DatagramSocket(new InetSocketAddress(address, config.port()));
            } catch (IOException e) {
                throw new IOException("UDP: " + e.getMessage(), e);
            }
            var tcp = new ServerSocket();
            try {
                tcp.setReuseAddress(true);
                tcp.bind(new InetSocketAddress(address, udp.getLocalPort()));
                return new Listener(udp, tcp);
            } catch (IOException e) {
                udp.close();
                tcp.close();
                last = new IOException("TCP: " + e.getMessage(), e);
                if (!(e instanceof BindException) || config.port() != 0) break;
            }
        }
        throw last;
    }

    /** UDP and TCP sockets on one address, each served by a virtual thread until closed. */
    private final class Listener {
        private final DatagramSocket udp;
        private final ServerSocket tcp;
        private final InetSocketAddress address;
        private final Set<Socket> connections = ConcurrentHashMap.newKeySet();
        /** The threads answering a UDP query each: one still sending on {@link #udp} holds its address. */
        private final Set<Thread> replies = ConcurrentHashMap.newKeySet();
        private volatile boolean closed;
        private Thread udpServer;
        private Thread tcpServer;

        /** Both sockets bound; {@code udp}'s address is read now, since a closed socket has none. */
        Listener(DatagramSocket udp, ServerSocket tcp) {
            this.udp = udp;
            this.tcp = tcp;
            this.address = new InetSocketAddress(udp.getLocalAddress(), udp.getLocalPort());
        }

        InetSocketAddress address() {
            return address;
        }

        /** {@code address:port}. */
        @Override
        public String toString() {
            return address.getAddress().getHostAddress() + ":" + address.getPort();
        }

        void start() {
            udpServer = Thread.ofVirtual().name("dns-udp-" + this).start(this::serveUdp);
            tcpServer = Thread.ofVirtual().name("dns-tcp-" + this).start(this::serveTcp);
        }

        /**
         * Closes both sockets and every open connection, and returns once the two serving threads and the UDP replies
         * in flight have ended (at most {@link #CLOSE_WAIT} in all): a socket closed while a virtual thread waits on or
         * sends through it keeps its address until that thread is done with it, and whoever called {@link #listenOn}
         * expects the address free when it returns.
         */
        void close() {
            closed = true;
            udp.close();
            try {
                tcp.close();
            } catch (IOException e) {
                log.debug("close internal DNS TCP socket {}: {}", this, e.toString());
            }
            for (var c : connections) {
                try {
                    c.close();
                } catch (IOException e) {
                    log.debug("close internal DNS connection: {}", e.toString());
                }
            }
            long deadline = System.nanoTime() + CLOSE_WAIT.toNanos();
            try {
                // The UDP server first: once it has ended, it starts no more replies.
                awaitEnd(udpServer, deadline);
                for (Thread reply : List.copyOf(replies)) awaitEnd(reply, deadline);
                awaitEnd(tcpServer, deadline);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        /** Waits for {@code thread} (when not null) to end until {@code deadline} ({@link System#nanoTime}). */
        private static void awaitEnd(Thread thread, long deadline) throws InterruptedException {
            if (thread == null) return;
            if (!thread.join(Duration.ofNanos(Math.max(0, deadline - System.nanoTime())))) {
                log.warn("internal DNS: {} still running {} after close", thread.getName(), CLOSE_WAIT);
            }
        }

        private void serveUdp() {
            var buffer = new byte[UDP_MAX];
            while (!closed) {
                var packet = new DatagramPacket(buffer, buffer.length);
                try {
                    udp.receive(packet);
                } catch (IOException e) {
                    if (!closed) log.warn("internal DNS: UDP receive on {} failed: {}", this, e.toString());
                    continue;
                }
                var query = Arrays.copyOfRange(packet.getData(), packet.getOffset(), packet.getOffset() + packet.getLength());
                var client = (InetSocketAddress) packet.getSocketAddress();
                Thread reply = Thread.ofVirtual().name("dns-reply-" + this).unstarted(() -> {
                    try {
                        var answer = answer(query, client.getAddress(), false);
                        if (answer.isEmpty()) return;
                        udp.send(new DatagramPacket(answer.get(), answer.get().length, client));
                    } catch (IOException e) {
                        if (!closed) log.debug("internal DNS: UDP reply to {} failed: {}", client, e.toString());
                    } finally {
                        replies.remove(Thread.currentThread());
                    }
                });
                replies.add(reply);
                reply.start();
            }
        }

        private void serveTcp() {
            while (!closed) {
                Socket socket;
                try {
                    socket = tcp.accept();
                } catch (IOException e) {
                    if (!closed) log.warn("internal DNS: TCP accept on {} failed: {}", this, e.toString());
                    continue;
                }
                connections.add(socket);
                Thread.ofVirtual().start(() -> serveConnection(socket));
            }
        }

        /** RFC 7766: two-byte length, message; several queries may follow on one connection. */
        private void serveConnection(Socket socket) {
            try (socket) {
                socket.setSoTimeout(TCP_IDLE_MS);
                var in = new DataInputStream(socket.getInputStream());
                var out = new DataOutputStream(socket.getOutputStream());
                while (!closed) {
                    int length;
                    try {
                        length = in.readUnsignedShort();
                    } catch (IOException e) {
                        return;
                    }
                    var query = in.readNBytes(length);
                    if (query.length < length) return;
                    var reply = answer(query, socket.getInetAddress(), true);
                    if (reply.isEmpty()) return;
                    out.writeShort(reply.get().length);
                    out.write(reply.get());
                    out.flush();
                }
            } catch (IOException e) {
                if (!closed && !(e instanceof SocketException)) log.debug("internal DNS: TCP connection failed: {}", e.toString());
            } finally {
                connections.remove(socket);
            }
        }
    }

    /** The wire reply to a wire query from {@code source}; empty when the query cannot be parsed (it is dropped). */
    private Optional<byte[]> answer(byte[] wire, InetAddress source, boolean overTcp) {
        Message query;
        try {
            query = new Message(wire);
        } catch (IOException e) {
            log.debug("internal DNS: unparseable query from {}: {}", source, e.toString());
            return Optional.empty();
        }
        int limit = overTcp ? 65535 : udpLimit(query);
        var question = query.getQuestion();
        var namespace = index.namespaceOf(source);
        if (question == null || query.getHeader().getOpcode() != 0) return Optional.of(reply(query, Rcode.NOTIMP, false).toWire(limit));
        if (namespace.isEmpty()) return Optional.of(reply(query, Rcode.REFUSED, false).toWire(limit));

        var name = question.getName().toString(true).toLowerCase(Locale.ROOT);
        var labels = List.of(name.split("\\."));
        if (!labels.getLast().equals(DOMAIN)) return Optional.of(forward(query).toWire(limit));

        var addresses = labels.size() >= 3 && labels.get(labels.size() - 2).equals(namespace.get())
                ? index.lookup(namespace.get(), labels.subList(0, labels.size() - 2))
                : Optional.<List<InetAddress>>empty();
        if (addresses.isEmpty()) return Optional.of(reply(query, Rcode.NXDOMAIN, true).toWire(limit));
        var response = reply(query, Rcode.NOERROR, true);
        if (question.getDClass() == DClass.IN && (question.getType() == Type.A || question.getType() == Type.ANY)) {
            var shuffled = new ArrayList<>(addresses.get());
            Collections.shuffle(shuffled, ThreadLocalRandom.current());
            for (var a : shuffled) response.addRecord(new ARecord(question.getName(), DClass.IN, TTL_SECONDS, a), Section.ANSWER);
        }
        return Optional.of(response.toWire(limit));
    }

    private Message reply(Message query, int rcode, boolean authoritative) {
        var response = new Message(query.getHeader().getID());
        var header = response.getHeader();
        header.setFlag(Flags.QR);
        if (query.getHeader().getFlag(Flags.RD)) header.setFlag(Flags.RD);
        header.setFlag(Flags.RA);
        if (authoritative) header.setFlag(Flags.AA);
        header.setRcode(rcode);
        if (query.getQuestion() != null) response.addRecord(query.getQuestion(), Section.QUESTION);
        if (query.getOPT() != null) response.addRecord(new OPTRecord(EDNS_PAYLOAD, 0, 0), Section.ADDITIONAL);
        return response;
    }

    /**
     * Asks each upstream in turn, over UDP and again over TCP when the answer is truncated (whatever the client used:
     * the answer to a UDP client is truncated to its size, and the client asks again over TCP);
     * {@code SERVFAIL} when none answers.
     */
    private Message forward(Message query) {
        for (var upstream : config.upstreams()) {
            try {
                var resolver = new SimpleResolver(upstream);
                resolver.setTimeout(config.upstreamTimeout());
                var response = resolver.send(query.clone());
                response.getHeader().setID(query.getHeader().getID());
                return response;
            } catch (IOException e) {
                log.debug("internal DNS: upstream {} failed for {}: {}", upstream, query.getQuestion().getName(), e.toString());
            }
        }
        return reply(query, Rcode.SERVFAIL, false);
    }

    private static int udpLimit(Message query) {
        var opt = query.getOPT();
        return opt == null ? UDP_DEFAULT : Math.clamp(opt.getPayloadSize(), UDP_DEFAULT, UDP_MAX);
    }

    /** The snapshot arranged for lookups; immutable. */
    private record Index(List<Source> sources, Map<String, Names> namespaces) {
        private record Source(Ipv4.Cidr block, String namespace) {}

        /** One namespace's names: machine ids, fleets and machine names to addresses. */
        private record Names(Map<String, InetAddress> vms, Map<String, List<InetAddress>> fleets, Map<String, InetAddress> named) {}

        static Index of(DnsSnapshot snapshot) {
            var sources = new ArrayList<Source>();
            for (var n : snapshot.namespaces()) {
                for (var s : n.sources()) sources.add(new Source(Ipv4.Cidr.parse(s, "DNS source"), n.namespace()));
            }
            var vms = new HashMap<String, Map<String, InetAddress>>();
            var fleets = new HashMap<String, Map<String, List<InetAddress>>>();
            var named = new HashMap<String, Map<String, InetAddress>>();
            for (var m : snapshot.machines()) {
                var address = InetAddress.ofLiteral(m.address());
                vms.computeIfAbsent(m.namespace(), k -> new HashMap<>()).put(m.machineId(), address);
                m.fleet().ifPresent(f -> fleets.computeIfAbsent(m.namespace(), k -> new HashMap<>())
                        .computeIfAbsent(f, k -> new ArrayList<>()).add(address));
                m.name().ifPresent(n -> named.computeIfAbsent(m.namespace(), k -> new HashMap<>()).put(n, address));
            }
            var namespaces = new HashMap<String, Names>();
            vms.forEach((ns, ids) -> {
                var nsFleets = new HashMap<String, List<InetAddress>>();
                fleets.getOrDefault(ns, Map.of()).forEach((k, v) -> nsFleets.put(k, List.copyOf(v)));
                namespaces.put(ns, new Names(Map.copyOf(ids), Map.copyOf(nsFleets), Map.copyOf(named.getOrDefault(ns, Map.of()))));
            });
            return new Index(List.copyOf(sources), Map.copyOf(namespaces));
        }

        Optional<String> namespaceOf(InetAddress source) {
            if (!(source instanceof Inet4Address)) return Optional.empty();
            int a = Ipv4.parse(source.getHostAddress(), "source address");
            return sources.stream().filter(s -> s.block().contains(a)).map(Source::namespace).findFirst();
        }

        /** The addresses {@code labels} (the name before {@code <ns>.internal}) stand for; empty if it names nothing. */
        Optional<List<InetAddress>> lookup(String namespace, List<String> labels) {
            var names = namespaces.get(namespace);
            if (names == null) return Optional.empty();
            if (labels.size() == 2 && labels.get(1).equals("vm")) {
                return Optional.ofNullable(names.vms().get(labels.getFirst())).map(List::of);
            }
            if (labels.size() != 1) return Optional.empty();
            var fleet = names.fleets().get(labels.getFirst());
            if (fleet != null) return Optional.of(fleet);
            return Optional.ofNullable(names.named().get(labels.getFirst())).map(List::of);
        }
    }
}
