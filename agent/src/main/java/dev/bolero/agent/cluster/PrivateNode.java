package dev.bolero.agent.cluster;

import dev.bolero.agent.machine.MachineNetwork;
import dev.bolero.api.wire.Assignment;
import dev.bolero.api.wire.Assignments;
import dev.bolero.api.wire.NodeLink;
import dev.bolero.api.wire.PrivateNetworkPlan;
import dev.bolero.api.wire.WireGuardKind;
import dev.bolero.network.DnsMachine;
import dev.bolero.network.DnsNamespace;
import dev.bolero.network.DnsSnapshot;
import dev.bolero.network.InternalDns;
import dev.bolero.network.InternalDnsConfig;
import dev.bolero.network.NetworkException;
import dev.bolero.network.NodeKey;
import dev.bolero.network.PrivateAddressing;
import dev.bolero.network.PrivateNetwork;
import dev.bolero.network.WireGuardLink;
import dev.bolero.network.WireGuardLinkConfig;
import dev.bolero.network.WireGuardPeer;
import dev.bolero.api.ApiJson;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.net.Inet4Address;
import java.nio.file.Files;
import java.nio.file.StandardCopyOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This node's part in the cluster's private network, once it joined (see {@code docs/private-network.md}): its
 * WireGuard link (opened, or adopted from the agent that ran before), the node network's private layout and the
 * internal DNS its guests ask on their gateway. {@link #apply} follows each assignments answer: namespace indexes,
 * peers and DNS records. {@link #close()} stops the DNS server only: the link outlives the agent, so flows between
 * nodes survive an agent restart; an agent that stops with no machine left removes it ({@link #closeWithLink}).
 */
public final class PrivateNode implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(PrivateNode.class);
    private static final Duration UPSTREAM_TIMEOUT = Duration.ofSeconds(2);
    private static final String LAYOUT_FILE = "private-network.json";

    private final PrivateNetworkConfig config;
    private final NodeKey key;
    private final PrivateAddressing addressing;
    private final int nodeIndex;
    private final WireGuardLink link;
    private final InternalDns dns;
    private final MachineNetwork network;
    /** The link's peers since the last answer that set them. */
    private final AtomicInteger peers = new AtomicInteger();

    private PrivateNode(PrivateNetworkConfig config, NodeKey key, PrivateAddressing addressing, int nodeIndex,
                        WireGuardLink link, InternalDns dns, MachineNetwork network) {
        this.config = config;
        this.key = key;
        this.addressing = addressing;
        this.nodeIndex = nodeIndex;
        this.link = link;
        this.dns = dns;
        this.network = network;
    }

    /**
     * The node's key pair, {@code DATA_DIR/wireguard.key} (made, mode 0600, on first use).
     *
     * @throws IllegalStateException when the file cannot be read or written
     */
    static NodeKey key(Path dataDir) {
        Path file = dataDir.resolve("wireguard.key");
        try {
            return NodeKey.loadOrCreate(file);
        } catch (IOException e) {
            throw new IllegalStateException("load or create the node's WireGuard key " + file + ": " + e.getMessage(), e);
        }
    }

    /**
     * The layout this node's network had in the private network when its agent last ran ({@code
     * DATA_DIR/private-network.json}), so that a restarted agent sets the node network up with it from the start and
     * the link's traffic is never without its rules; empty when there is none.
     *
     * @throws IllegalStateException when the file cannot be read
     */
    public static Optional<PrivateNetwork> storedLayout(Path dataDir) {
        Path file = dataDir.resolve(LAYOUT_FILE);
        if (!Files.exists(file)) return Optional.empty();
        try {
            return Optional.of(ApiJson.mapper().readValue(Files.readString(file), PrivateNetwork.class));
        } catch (IOException | RuntimeException e) {
            throw new IllegalStateException("read the private network layout " + file + ": " + e.getMessage(), e);
        }
    }

    private static void storeLayout(Path dataDir, PrivateNetwork layout) {
        Path file = dataDir.resolve(LAYOUT_FILE);
        Path tmp = dataDir.resolve(LAYOUT_FILE + ".tmp");
        try {
            Files.writeString(tmp, ApiJson.mapper().writeValueAsString(layout));
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new IllegalStateException("store the private network layout " + file + ": " + e.getMessage(), e);
        }
    }

    /** What the join announces: the public key and endpoint (no kind: the link is opened after the join). */
    static NodeLink announced(PrivateNetworkConfig config, NodeKey key) {
        return new NodeLink(key.publicKey(), config.endpoint(), null);
    }

    /**
     * Opens (or adopts) the link, gives the node network the plan's layout and starts the internal DNS.
     *
     * @throws IllegalStateException naming the step that failed; what was opened before it is closed again, except
     *     the link, which is meant to outlive the agent
     */
    static PrivateNode start(PrivateNetworkConfig config, NodeKey key, PrivateNetworkPlan plan, MachineNetwork network,
                             Path dataDir) {
        var addressing = new PrivateAddressing(plan.pool(), plan.nodeBits(), plan.namespaceBits());
        WireGuardLink link;
        try {
            link = WireGuardLink.open(new WireGuardLinkConfig(config.link(), Optional.empty(), config.listenPort(), key,
                    WireGuardLinkConfig.DEFAULT_MTU, List.of(plan.pool())));
            var layout = new PrivateNetwork(addressing, plan.nodeIndex(), config.link(), config.dnsPort());
            network.joinPrivateNetwork(layout);
            storeLayout(dataDir, layout);
        } catch (NetworkException e) {
            throw new IllegalStateException("join the private network: " + e.getMessage(), e);
        }
        InternalDns dns;
        try {
            dns = InternalDns.start(new InternalDnsConfig(config.dnsPort(),
                    InternalDnsConfig.upstreamsOf(Path.of("/etc/resolv.conf")), UPSTREAM_TIMEOUT, Optional.empty()));
        } catch (IOException e) {
            throw new IllegalStateException("start the internal DNS: " + e.getMessage(), e);
        }
        network.watchGateways(gateways -> listen(dns, gateways));
        log.info("private network: node index {} link {} ({}) endpoint {} dns {}", plan.nodeIndex(), link.name(),
                link.kind(), config.endpoint(), dns.listening());
        return new PrivateNode(config, key, addressing, plan.nodeIndex(), link, dns, network);
    }

    /**
     * Has the DNS listen on the bridges' gateways; an address it cannot bind is logged as an error naming it (its
     * namespace's guests get no DNS answers there) and tried again at the next change of the bridges.
     */
    private static void listen(InternalDns dns, Set<Inet4Address> gateways) {
        try {
            dns.listenOn(gateways);
        } catch (IOException e) {
            log.error("private network: {}", e.getMessage());
        }
    }

    /** Which WireGuard carries the link. */
    WireGuardKind kind() {
        return link.kind() == WireGuardLink.Kind.KERNEL ? WireGuardKind.KERNEL : WireGuardKind.USERSPACE;
    }

    /**
     * Publishes on {@code registry} how many peers the link has ({@code bolero_wireguard_peers}: the other nodes of
     * the private network, as the last assignments answer listed them once they were set on the link).
     */
    void bindMetrics(MeterRegistry registry) {
        Gauge.builder("bolero.wireguard.peers", peers, AtomicInteger::get)
                .description("Peers of the node's WireGuard link: the other nodes of the private network and its gateways")
                .tag("link", link.name()).register(registry);
    }

    /** What each heartbeat reports: key, endpoint and kind. */
    NodeLink reported() {
        return new NodeLink(key.publicKey(), config.endpoint(), kind());
    }

    /**
     * Follows an assignments answer: the namespaces' indexes (before the machines are reconciled, which attaches new
     * ones by them), the link's peers (exactly the listed ones) and the DNS records. A failure to set the peers or
     * a malformed record is logged (the machines are reconciled all the same); the next answer tries again.
     */
    void apply(Assignments a) {
        var indexes = new HashMap<String, Integer>();
        for (Assignment m : a.machines()) {
            if (m.namespaceIndex() != null) indexes.put(m.namespace(), m.namespaceIndex());
        }
        network.namespaceIndexes(indexes);
        try {
            link.syncPeers(a.peers().stream()
                    .map(p -> new WireGuardPeer(p.publicKey(), p.endpoint(), p.allowedIps())).toList());
            peers.set(a.peers().size());
        } catch (NetworkException | IllegalArgumentException e) {
            log.warn("private network: set the link's peers: {}", e.getMessage());
        }
        try {
            var namespaces = indexes.entrySet().stream()
                    .map(e -> new DnsNamespace(e.getKey(), List.of(addressing.subnet(e.getValue(), nodeIndex))))
                    .toList();
            var machines = a.dns().stream()
                    .map(r -> new DnsMachine(r.machineId(), r.namespace(), Optional.ofNullable(r.fleet()),
                            Optional.ofNullable(r.name()), r.privateIp()))
                    .toList();
            dns.update(new DnsSnapshot(namespaces, machines));
        } catch (IllegalArgumentException e) {
            log.warn("private network: DNS records of assignments {} refused, keeping the previous ones: {}", a.index(),
                    e.getMessage());
        }
    }

    /** Stops the internal DNS (every listener); the link and its peers stay (see the class comment). */
    @Override
    public void close() {
        network.unwatchGateways();
        dns.close();
    }

    /**
     * Stops the internal DNS and removes the link (its interface, peers and userspace process), keeping the stored
     * layout: for an agent that stops with no machine left, whose flows nothing would carry on. The next start opens
     * the link again. A failure is logged, naming {@code action}.
     */
    void closeWithLink(String action) {
        close();
        try {
            link.close();
        } catch (NetworkException e) {
            log.error("private network: {}: {}", action, e.getMessage());
        }
        peers.set(0);
    }

    /**
     * Leaves the private network for good, once the control plane no longer knows this node: stops the internal DNS,
     * removes the link (its interface, peers and userspace process) and forgets the stored layout. Each step is tried
     * even when one before it failed; failures are logged, naming the step.
     *
     * @param dataDir the agent's data directory, where the layout is stored
     */
    void leave(Path dataDir) {
        closeWithLink("leave");
        try {
            Files.deleteIfExists(dataDir.resolve(LAYOUT_FILE));
        } catch (IOException e) {
            log.error("private network: leave: remove the stored layout {}: {}", dataDir.resolve(LAYOUT_FILE), e);
        }
        log.info("private network: left; link {} removed", link.name());
    }
}
