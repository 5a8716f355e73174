package dev.bolero.network;

import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * How a node lays out its machines' networks.
 *
 * <p>Published ports listen on one host address, {@code publishAddress}: give the node's address that clients use.
 * Loopback addresses are refused: a connection to 127.0.0.1 rewritten to a guest would leave the host with a loopback
 * source address, which the kernel drops unless {@code route_localnet} is turned on, and that setting opens the
 * host's loopback services to the network.
 *
 * @param pool the block namespaces' subnets are carved from, e.g. {@code 10.210.0.0/16}
 * @param namespacePrefix the prefix length of each namespace's subnet (24 gives 253 machines per namespace)
 * @param devicePrefix starts the name of every device this node creates: bridges {@code <prefix>br<n>}, taps
 *     {@code <prefix>t<8 hex>}; 1–6 lower-case letters or digits, starting with a letter. Devices with this prefix
 *     that the store does not know are deleted by {@link NodeNetwork#reconcile()}
 * @param table the name of the nftables tables Bolero owns, one in the {@code inet} and one in the {@code bridge}
 *     family; nothing else is ever touched
 * @param publishAddress the host IPv4 address published ports are reachable on
 * @param dns name servers handed to guests (they reach them through egress NAT); may be empty
 * @param netns the network namespace (as {@code ip netns} names it) to build the node's network in; empty on a node,
 *     where it is the host's own. Tests use it to keep the host untouched
 * @param privateNetwork the node's part in the cluster's private network; when present, a namespace's subnet is the
 *     one the address plan gives it on this node (not one from {@code pool}) and {@link NodeNetwork#attach(String,
 *     String, int, NetworkRequest)} must be used
 * @param maxConnectionsPerMachine how many connections (conntrack entries: TCP, UDP and ICMP flows) one machine may
 *     have open through the node at once; new ones beyond it are dropped, so one guest cannot fill the node's
 *     connection table for the others. At least 1
 * @throws IllegalArgumentException if a value is malformed or the layout cannot fit (see each parameter)
 */
public record NetworkConfig(
        String pool,
        int namespacePrefix,
        String devicePrefix,
        String table,
        String publishAddress,
        List<String> dns,
        Optional<String> netns,
        Optional<PrivateNetwork> privateNetwork,
        int maxConnectionsPerMachine) {

    /** The default of {@code maxConnectionsPerMachine}: far above what one service needs, far below a node's table. */
    public static final int DEFAULT_MAX_CONNECTIONS_PER_MACHINE = 8192;
    public static final String DEFAULT_POOL = "10.210.0.0/16";
    public static final int DEFAULT_NAMESPACE_PREFIX = 24;
    public static final String DEFAULT_DEVICE_PREFIX = "bl";
    public static final String DEFAULT_TABLE = "bolero";

    private static final Pattern DEVICE_PREFIX = Pattern.compile("[a-z][a-z0-9]{0,5}");
    private static final Pattern TABLE = Pattern.compile("[a-z][a-z0-9_]{0,31}");
    private static final Pattern NETNS = Pattern.compile("[A-Za-z0-9_.-]{1,64}");
    private static final int IFNAMSIZ = 15;

    public NetworkConfig {
        Objects.requireNonNull(devicePrefix, "devicePrefix");
        Objects.requireNonNull(table, "table");
        var block = Ipv4.Cidr.parse(pool, "pool");
        if (namespacePrefix < block.prefix() || namespacePrefix > 30) {
            throw new IllegalArgumentException(
                    "namespace prefix must be between the pool's (" + block.prefix() + ") and 30, got " + namespacePrefix);
        }
        if (!DEVICE_PREFIX.matcher(devicePrefix).matches()) {
            throw new IllegalArgumentException("device prefix must be 1-6 of [a-z0-9] starting with a letter: " + devicePrefix);
        }
        long subnets = 1L << (namespacePrefix - block.prefix());
        if ((devicePrefix + "br" + (subnets - 1)).length() > IFNAMSIZ) {
            throw new IllegalArgumentException("bridge names for " + subnets + " subnets exceed " + IFNAMSIZ
                    + " characters with device prefix " + devicePrefix);
        }
        if (!TABLE.matcher(table).matches()) {
            throw new IllegalArgumentException("table must be 1-32 of [a-z0-9_] starting with a letter: " + table);
        }
        int publish = Ipv4.parse(publishAddress, "publish address");
        if ((publish >>> 24) == 127) {
            throw new IllegalArgumentException("publish address must not be a loopback address: " + publishAddress);
        }
        if (block.contains(publish)) {
            throw new IllegalArgumentException("publish address " + publishAddress + " lies in the pool " + pool);
        }
        dns = List.copyOf(dns);
        dns.forEach(d -> Ipv4.parse(d, "dns server"));
        requireNetns(netns);
        Objects.requireNonNull(privateNetwork, "privateNetwork");
        if (maxConnectionsPerMachine < 1) {
            throw new IllegalArgumentException("max connections per machine must be at least 1, got "
                    + maxConnectionsPerMachine);
        }
        if (privateNetwork.isPresent()) {
            var plan = privateNetwork.get().addressing();
            if (plan.poolBlock().contains(publish)) {
                throw new IllegalArgumentException("publish address " + publishAddress + " lies in the private pool " + plan.pool());
            }
            if ((devicePrefix + "br" + (plan.namespaces() - 1)).length() > IFNAMSIZ) {
                throw new IllegalArgumentException("bridge names for " + plan.namespaces() + " namespaces exceed " + IFNAMSIZ
                        + " characters with device prefix " + devicePrefix);
            }
        }
    }

    /** Checks a network namespace name as {@code ip netns} accepts it; throws {@link IllegalArgumentException} otherwise. */
    static void requireNetns(Optional<String> netns) {
        Objects.requireNonNull(netns, "netns");
        netns.ifPresent(n -> {
            if (!NETNS.matcher(n).matches()) throw new IllegalArgumentException("not a network namespace name: " + n);
        });
    }

    /** A node network without a private network across nodes. */
    public NetworkConfig(String pool, int namespacePrefix, String devicePrefix, String table, String publishAddress,
            List<String> dns, Optional<String> netns) {
        this(pool, namespacePrefix, devicePrefix, table, publishAddress, dns, netns, Optional.empty(),
                DEFAULT_MAX_CONNECTIONS_PER_MACHINE);
    }

    /** This config with {@code privateNetwork} as its part in the cluster's private network. */
    public NetworkConfig withPrivateNetwork(PrivateNetwork privateNetwork) {
        return new NetworkConfig(pool, namespacePrefix, devicePrefix, table, publishAddress, dns, netns,
                Optional.of(privateNetwork), maxConnectionsPerMachine);
    }

    /** This config with at most {@code max} connections open per machine. */
    public NetworkConfig withMaxConnectionsPerMachine(int max) {
        return new NetworkConfig(pool, namespacePrefix, devicePrefix, table, publishAddress, dns, netns, privateNetwork,
                max);
    }

    /** The defaults ({@link #DEFAULT_POOL}, /24 per namespace, {@code bl}, {@code bolero}), no DNS, the host's namespace. */
    public static NetworkConfig defaults(String publishAddress) {
        return new NetworkConfig(DEFAULT_POOL, DEFAULT_NAMESPACE_PREFIX, DEFAULT_DEVICE_PREFIX, DEFAULT_TABLE,
                publishAddress, List.of(), Optional.empty());
    }

    Ipv4.Cidr poolBlock() {
        return Ipv4.Cidr.parse(pool, "pool");
    }
}
