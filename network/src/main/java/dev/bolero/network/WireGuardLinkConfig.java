package dev.bolero.network;

import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * How a node's WireGuard link is made.
 *
 * @param name the interface name; unique on the host (wireguard-go's control socket,
 *     {@code /var/run/wireguard/<name>.sock}, is shared by all network namespaces)
 * @param netns the network namespace (as {@code ip netns} names it) the link lives in; empty for the host's own
 * @param listenPort the UDP port the link listens on: the port of this node's endpoint
 * @param key the node's key pair; the link reads the private key from its file
 * @param mtu the link's MTU: at most the underlay's minus WireGuard's 80 bytes of overhead (IPv6 outer header), so
 *     {@link #DEFAULT_MTU} over a 1500-byte underlay
 * @param routes blocks routed into the link, typically the whole private pool ({@link PrivateAddressing#pool()});
 *     the node's own bridges are more specific and win
 * @param address the link's own address, a {@code /32} block, for a host in the mesh that is no node (a gateway: its
 *     packets leave the link from this address, the only one its peers accept from it); empty on a node, whose
 *     machines' packets carry their own addresses
 */
public record WireGuardLinkConfig(String name, Optional<String> netns, int listenPort, NodeKey key, int mtu, List<String> routes,
                                  Optional<String> address) {
    /** 1500 minus 80 bytes of WireGuard overhead over IPv6 (60 over IPv4), as {@code wg-quick} chooses. */
    public static final int DEFAULT_MTU = 1420;

    private static final Pattern NAME = Pattern.compile("[a-z][a-z0-9_-]{0,14}");

    public WireGuardLinkConfig {
        requireName(name);
        NetworkConfig.requireNetns(netns);
        if (listenPort < 1 || listenPort > 65535) throw new IllegalArgumentException("listen port out of range: " + listenPort);
        Objects.requireNonNull(key, "key");
        if (mtu < 1280 || mtu > 9000) throw new IllegalArgumentException("MTU must be between 1280 and 9000, got " + mtu);
        routes = List.copyOf(routes);
        routes.forEach(r -> Ipv4.Cidr.parse(r, "route"));
        Objects.requireNonNull(address, "address");
        address.ifPresent(a -> {
            if (Ipv4.Cidr.parse(a, "link address").prefix() != 32) throw new IllegalArgumentException("link address must be a /32: " + a);
        });
    }

    /** A node's link: no address of its own. */
    public WireGuardLinkConfig(String name, Optional<String> netns, int listenPort, NodeKey key, int mtu, List<String> routes) {
        this(name, netns, listenPort, key, mtu, routes, Optional.empty());
    }

    /** Checks a link name: 1-15 of [a-z0-9_-] starting with a letter; throws {@link IllegalArgumentException} otherwise. */
    public static void requireName(String name) {
        if (name == null || !NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("link name must be 1-15 of [a-z0-9_-] starting with a letter: " + name);
        }
    }

    /** The private key file, for {@code wg set ... private-key}. */
    Path privateKeyFile() {
        return key.file();
    }
}
