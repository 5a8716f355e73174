package dev.bolero.gateway;

import dev.bolero.api.wire.GatewayMembership;
import dev.bolero.api.wire.NodeLink;
import dev.bolero.api.wire.WireGuardKind;
import dev.bolero.client.BoleroClient;
import dev.bolero.client.ClientException;
import dev.bolero.network.NetworkException;
import dev.bolero.network.NodeKey;
import dev.bolero.network.WireGuardLink;
import dev.bolero.network.WireGuardLinkConfig;
import dev.bolero.network.WireGuardPeer;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The gateway's place in the cluster's private network: it joins the nodes' WireGuard mesh as a peer, so it reaches
 * machines by their private addresses from any host that reaches the nodes' WireGuard endpoints (no published ports,
 * no route into a node).
 *
 * <p>{@link #join} reads or makes the gateway's key ({@link NodeKey}, {@code 0600}), registers it with the control
 * plane ({@link BoleroClient#joinGatewayMesh}), which allots the gateway an address of the plan's infrastructure
 * range, and opens a WireGuard link with that address, a route for the private pool and every node as a peer. It then
 * renews the registration every {@link GatewayMembership#renewSeconds()} on a virtual thread, and makes the link's
 * peers what each answer lists (nodes joining, leaving, going down or changing key or endpoint). A failed renewal is
 * logged and tried again at the next period; the link keeps its peers meanwhile. {@link #close()} ends the
 * registration (the nodes drop the gateway's peer) and removes the link. Every node lets the gateway reach machines'
 * {@code http_service} ports only.
 */
public final class MeshLink implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(MeshLink.class);

    /**
     * How the gateway joins.
     *
     * @param keyFile its WireGuard private key, made {@code 0600} when missing (in the gateway's state directory)
     * @param link the name of its WireGuard interface; unique on the host
     * @param listenPort the UDP port the link listens on
     * @param endpoint where the nodes send to it, {@code IPv4:port}: an address of this host they reach
     */
    public record Config(Path keyFile, String link, int listenPort, String endpoint) {
        public Config {
            Objects.requireNonNull(keyFile, "keyFile");
            WireGuardLinkConfig.requireName(link);
            if (listenPort < 1 || listenPort > 65535) throw new IllegalArgumentException("listen port out of range: " + listenPort);
            NodeLink.endpointPort(endpoint);
        }
    }

    private final BoleroClient client;
    private final Config config;
    private final NodeKey key;
    private final Thread renewer;
    private volatile WireGuardLink link;
    private volatile GatewayMembership membership;
    private final java.util.concurrent.atomic.AtomicBoolean closed = new java.util.concurrent.atomic.AtomicBoolean();

    private MeshLink(BoleroClient client, Config config, NodeKey key, WireGuardLink link, GatewayMembership membership) {
        this.client = client;
        this.config = config;
        this.key = key;
        this.link = link;
        this.membership = membership;
        this.renewer = Thread.ofVirtual().name("mesh-renew").unstarted(this::renewLoop);
    }

    /**
     * Registers the gateway and brings its link up with the nodes as peers.
     *
     * @throws IOException when the key cannot be read or made, the control plane refuses the registration, or the link
     *     cannot be opened (then the registration is ended again)
     */
    public static MeshLink join(BoleroClient client, Config config) throws IOException {
        var key = NodeKey.loadOrCreate(config.keyFile());
        GatewayMembership membership;
        try {
            membership = client.joinGatewayMesh(new NodeLink(key.publicKey(), config.endpoint(), null));
        } catch (ClientException e) {
            throw new IOException("join the private network's mesh: " + e.getMessage(), e);
        }
        WireGuardLink link;
        try {
            link = open(config, key, membership);
        } catch (NetworkException | RuntimeException e) {
            leave(client, membership.id());
            throw new IOException("join the private network's mesh: " + e.getMessage(), e);
        }
        log.info("joined the private network's mesh id={} address={} link={} ({}) peers={}", membership.id(),
                membership.address(), link.name(), link.kind(), membership.peers().size());
        var mesh = new MeshLink(client, config, key, link, membership);
        mesh.renewer.start();
        return mesh;
    }

    /** The gateway's private address, which machines see as the source of its requests. */
    public String address() {
        return membership.address();
    }

    /** The link's interface name. */
    public String linkName() {
        return config.link();
    }

    /**
     * Ends the registration (the nodes drop the gateway) and removes the link; a failure to do either is logged.
     * Closing twice does nothing.
     */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) return;
        renewer.interrupt();
        try {
            renewer.join(Duration.ofSeconds(10));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        leave(client, membership.id());
        try {
            link.close();
        } catch (NetworkException e) {
            log.warn("leave the private network's mesh: {}", e.getMessage());
        }
        log.info("left the private network's mesh id={}", membership.id());
    }

    private static WireGuardLink open(Config config, NodeKey key, GatewayMembership membership) throws NetworkException {
        var link = WireGuardLink.open(new WireGuardLinkConfig(config.link(), Optional.empty(), config.listenPort(), key,
                WireGuardLinkConfig.DEFAULT_MTU, List.of(membership.pool()), Optional.of(membership.address() + "/32")));
        try {
            link.syncPeers(peers(membership));
        } catch (NetworkException | RuntimeException e) {
            try {
                link.close();
            } catch (NetworkException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
        return link;
    }

    private static List<WireGuardPeer> peers(GatewayMembership membership) {
        return membership.peers().stream().map(p -> new WireGuardPeer(p.publicKey(), p.endpoint(), p.allowedIps())).toList();
    }

    private static void leave(BoleroClient client, String id) {
        try {
            client.leaveGatewayMesh(id);
        } catch (ClientException e) {
            log.warn("leave the private network's mesh as {}: {} (the control plane drops it when its lease ends)", id,
                    e.getMessage());
        }
    }

    private void renewLoop() {
        while (!Thread.currentThread().isInterrupted()) {
            try {
                Thread.sleep(Duration.ofSeconds(membership.renewSeconds()));
            } catch (InterruptedException e) {
                return;
            }
            try {
                renew();
            } catch (ClientException | NetworkException | IllegalArgumentException e) {
                log.warn("renew the gateway's place in the private network's mesh: {}", e.getMessage());
            }
        }
    }

    /**
     * One renewal: the answer's nodes become the link's peers. A registration that lapsed meanwhile (the gateway was
     * cut off longer than its lease) may come back with another address: the link is then opened again with it.
     */
    private void renew() throws NetworkException {
        var kind = link.kind() == WireGuardLink.Kind.KERNEL ? WireGuardKind.KERNEL : WireGuardKind.USERSPACE;
        var next = client.joinGatewayMesh(new NodeLink(key.publicKey(), config.endpoint(), kind));
        if (!next.address().equals(membership.address())) {
            log.warn("the private network's mesh gave the gateway another address {} (was {}): reopening the link",
                    next.address(), membership.address());
            link.close();
            link = open(config, key, next);
        } else {
            link.syncPeers(peers(next));
        }
        membership = next;
    }
}
