package dev.bolero.network;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A node's WireGuard link: the interface that carries the private network to the other nodes, encrypted.
 *
 * <p>{@link #open} uses the kernel's WireGuard when {@code ip link add ... type wireguard} works and starts
 * {@code wireguard-go} otherwise ({@link #kind()} says which). Either way the link is configured with the real
 * {@code wg} tool, and it outlives the JVM: the interface (and {@code wireguard-go}, which runs in its own session) stay
 * up while the agent restarts, and the next {@link #open} with the same name adopts them, so established flows keep
 * working. {@link #syncPeers} makes the peers match a desired set. {@link #close()} removes the interface, which also
 * ends {@code wireguard-go} and drops the link's routes. (Deleting the link's network namespace is no substitute: a
 * running {@code wireguard-go} keeps the namespace alive and goes on running.) Methods run one at a time.
 */
public final class WireGuardLink implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(WireGuardLink.class);
    private static final int KEEPALIVE_SECONDS = 25;
    private static final Path USERSPACE_SOCKETS = Path.of("/var/run/wireguard");
    private static final int EXIT_POLLS = 100;
    private static final long EXIT_POLL_MS = 50;

    /** Which WireGuard implementation carries the link. */
    public enum Kind {
        /** The kernel module ({@code ip link add ... type wireguard}). */
        KERNEL,
        /** {@code wireguard-go} on a tun device, where the kernel has no WireGuard. */
        USERSPACE
    }

    /**
     * A peer as the link sees it now (which may be a peer configured by hand, without an endpoint).
     *
     * @param publicKey the peer's public key
     * @param endpoint where its packets go, {@code IPv4:port} (the last address it sent from, if it roamed); empty
     *     if none is known
     * @param allowedIps the blocks routed to it
     * @param latestHandshake when the last handshake with it completed; empty if none yet
     * @param receivedBytes bytes received from it
     * @param sentBytes bytes sent to it
     */
    public record PeerStatus(String publicKey, Optional<String> endpoint, List<String> allowedIps,
            Optional<Instant> latestHandshake, long receivedBytes, long sentBytes) {
        public PeerStatus {
            Objects.requireNonNull(publicKey, "publicKey");
            Objects.requireNonNull(endpoint, "endpoint");
            allowedIps = List.copyOf(allowedIps);
            Objects.requireNonNull(latestHandshake, "latestHandshake");
        }

        /** Whether the link already has {@code peer} as desired: same endpoint and the same allowed IPs. */
        boolean matches(WireGuardPeer peer) {
            return endpoint.equals(Optional.of(peer.endpoint())) && Set.copyOf(allowedIps).equals(Set.copyOf(peer.allowedIps()));
        }
    }

    private final WireGuardLinkConfig config;
    private final HostCommands host;
    private final Kind kind;
    private final ReentrantLock lock = new ReentrantLock();
    private boolean closed;

    private WireGuardLink(WireGuardLinkConfig config, HostCommands host, Kind kind) {
        this.config = config;
        this.host = host;
        this.kind = kind;
    }

    /**
     * Makes the link exist (adopting one of that name already there), gives it the node's private key, listen port,
     * MTU and address (if any), brings it up and routes {@link WireGuardLinkConfig#routes()} into it. Peers already configured are kept;
     * call {@link #syncPeers} next.
     *
     * @throws NetworkException HOST if neither WireGuard implementation can make the link or a command fails (then a
     *     link this call created is removed again)
     */
    public static WireGuardLink open(WireGuardLinkConfig config) throws NetworkException {
        Objects.requireNonNull(config, "config");
        var action = "open WireGuard link " + config.name();
        var host = HostCommands.in(config.netns());
        var existing = existingKind(host, action, config.name());
        var kind = existing.isPresent() ? existing.get() : create(host, action, config.name());
        var link = new WireGuardLink(config, host, kind);
        try {
            host.run(action + ": set key and port", null, "wg", "set", config.name(),
                    "listen-port", Integer.toString(config.listenPort()), "private-key", config.privateKeyFile().toString());
            var batch = new ArrayList<String>();
            config.address().ifPresent(a -> batch.add("address replace " + a + " dev " + config.name()));
            batch.add("link set dev " + config.name() + " mtu " + config.mtu() + " up");
            for (var route : config.routes()) batch.add("route replace " + route + " dev " + config.name());
            host.run(action + ": configure interface", String.join("\n", batch) + "\n", "ip", "-batch", "-");
        } catch (NetworkException | RuntimeException e) {
            if (existing.isEmpty()) {
                try {
                    link.close();
                } catch (NetworkException suppressed) {
                    e.addSuppressed(suppressed);
                }
            }
            throw e;
        }
        log.info("WireGuard link up name={} kind={} adopted={} port={} mtu={}", config.name(), kind, existing.isPresent(),
                config.listenPort(), config.mtu());
        return link;
    }

    /** Which implementation carries the link, for the node's reported capabilities. */
    public Kind kind() {
        return kind;
    }

    /** The interface name. */
    public String name() {
        return config.name();
    }

    /**
     * Makes the link's peers exactly {@code desired}: peers not in it are removed, new ones added, ones whose endpoint
     * or allowed IPs differ updated; peers already as desired are left alone, so their sessions continue. Calling it
     * again with the same set changes nothing.
     *
     * @throws NetworkException HOST if {@code wg} fails
     * @throws IllegalArgumentException if two peers share a public key
     * @throws IllegalStateException after {@link #close()}
     */
    public void syncPeers(Collection<WireGuardPeer> desired) throws NetworkException {
        var wanted = new HashMap<String, WireGuardPeer>();
        for (var p : desired) {
            if (wanted.put(p.publicKey(), p) != null) throw new IllegalArgumentException("two peers with public key " + p.publicKey());
        }
        var action = "sync peers of WireGuard link " + config.name();
        lock.lock();
        try {
            requireOpen();
            var current = new HashMap<String, PeerStatus>();
            for (var s : status(action)) current.put(s.publicKey(), s);
            var argv = new ArrayList<>(List.of("wg", "set", config.name()));
            for (var key : current.keySet()) {
                if (!wanted.containsKey(key)) argv.addAll(List.of("peer", key, "remove"));
            }
            for (var p : wanted.values()) {
                var now = current.get(p.publicKey());
                if (now != null && now.matches(p)) continue;
                argv.addAll(List.of("peer", p.publicKey(), "endpoint", p.endpoint(),
                        "persistent-keepalive", Integer.toString(KEEPALIVE_SECONDS), "allowed-ips", String.join(",", p.allowedIps())));
            }
            if (argv.size() == 3) return;
            host.run(action, null, argv.toArray(String[]::new));
            log.debug("synced peers link={} peers={}", config.name(), wanted.size());
        } finally {
            lock.unlock();
        }
    }

    /**
     * The link's peers as {@code wg show} reports them.
     *
     * @throws NetworkException HOST if {@code wg} fails
     * @throws IllegalStateException after {@link #close()}
     */
    public List<PeerStatus> peers() throws NetworkException {
        lock.lock();
        try {
            requireOpen();
            return status("show peers of WireGuard link " + config.name());
        } finally {
            lock.unlock();
        }
    }

    /**
     * Removes the link: the interface and with it its routes, peers and (for {@link Kind#USERSPACE}) the
     * {@code wireguard-go} process, which this call waits for. Closing twice does nothing.
     *
     * @throws NetworkException HOST if the interface cannot be removed or {@code wireguard-go} does not exit
     */
    @Override
    public void close() throws NetworkException {
        var action = "close WireGuard link " + config.name();
        lock.lock();
        try {
            if (closed) return;
            closed = true;
            if (existingKind(host, action, config.name()).isPresent()) {
                host.run(action + ": delete interface", null, "ip", "link", "del", "dev", config.name());
            }
            if (kind == Kind.USERSPACE) awaitUserspaceExit(action);
            log.info("WireGuard link removed name={} kind={}", config.name(), kind);
        } finally {
            lock.unlock();
        }
    }

    /** The control socket {@code wireguard-go} serves for interface {@code name}. */
    static Path userspaceSocket(String name) {
        return USERSPACE_SOCKETS.resolve(name + ".sock");
    }

    private List<PeerStatus> status(String action) throws NetworkException {
        var peers = new ArrayList<PeerStatus>();
        var lines = host.run(action, null, "wg", "show", config.name(), "dump").split("\n");
        // The first line is the interface; each next one is: key, preshared key, endpoint, allowed IPs,
        // latest handshake (epoch seconds, 0 for none), rx bytes, tx bytes, keepalive.
        for (int i = 1; i < lines.length; i++) {
            var f = lines[i].split("\t");
            if (f.length < 8) continue;
            var endpoint = f[2].equals("(none)") ? Optional.<String>empty() : Optional.of(f[2]);
            var allowed = f[3].equals("(none)") ? List.<String>of() : List.of(f[3].split(","));
            long handshake = Long.parseLong(f[4]);
            peers.add(new PeerStatus(f[0], endpoint, allowed,
                    handshake == 0 ? Optional.empty() : Optional.of(Instant.ofEpochSecond(handshake)),
                    Long.parseLong(f[5]), Long.parseLong(f[6])));
        }
        return peers;
    }

    private static Optional<Kind> existingKind(HostCommands host, String action, String name) throws NetworkException {
        for (var line : host.run(action + ": list links", null, "ip", "-d", "-o", "link", "show").split("\n")) {
            var fields = line.split(": ", 3);
            if (fields.length < 3 || !fields[1].split("@")[0].equals(name)) continue;
            if (line.contains(" wireguard ")) return Optional.of(Kind.KERNEL);
            if (line.contains(" tun ")) return Optional.of(Kind.USERSPACE);
            throw new NetworkException(NetworkException.Kind.CONFLICT, action + ": " + name + " exists and is not a WireGuard link");
        }
        return Optional.empty();
    }

    private static Kind create(HostCommands host, String action, String name) throws NetworkException {
        try {
            host.run(action + ": add kernel WireGuard interface", null, "ip", "link", "add", "dev", name, "type", "wireguard");
            return Kind.KERNEL;
        } catch (NetworkException kernel) {
            log.debug("kernel WireGuard unavailable, starting wireguard-go link={}: {}", name, kernel.getMessage());
            try {
                // wireguard-go forks into the background (its own session) and returns once the interface is up.
                host.run(action + ": start wireguard-go", null, "wireguard-go", name);
            } catch (NetworkException userspace) {
                userspace.addSuppressed(kernel);
                throw userspace;
            }
            return Kind.USERSPACE;
        }
    }

    /** wireguard-go ends when its interface goes; it removes its control socket as it exits. */
    private void awaitUserspaceExit(String action) throws NetworkException {
        var socket = userspaceSocket(config.name());
        for (int i = 0; i < EXIT_POLLS && Files.exists(socket); i++) {
            try {
                Thread.sleep(EXIT_POLL_MS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new NetworkException(NetworkException.Kind.HOST, action + ": interrupted waiting for wireguard-go", e);
            }
        }
        if (Files.exists(socket)) {
            throw new NetworkException(NetworkException.Kind.HOST, action + ": wireguard-go still serves " + socket);
        }
    }

    private void requireOpen() {
        if (closed) throw new IllegalStateException("WireGuard link " + config.name() + " is closed");
    }
}
