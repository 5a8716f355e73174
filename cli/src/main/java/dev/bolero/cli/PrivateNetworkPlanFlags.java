package dev.bolero.cli;

import dev.bolero.network.PrivateAddressing;
import dev.bolero.server.ServerConfig;
import java.util.Optional;
import picocli.CommandLine.Option;

/**
 * The private network's address plan flags of a command that runs a server ({@code bolero server}, {@code bolero up}):
 * the pool every private address comes from and how many nodes and namespaces it numbers. They shape a new cluster;
 * once nodes hold addresses the plan is fixed and a server given another one refuses to start (see
 * {@code docs/private-network.md}).
 */
final class PrivateNetworkPlanFlags {
    /** The most nodes or namespaces a flag may ask for. */
    private static final int MAX_COUNT = 1 << 20;

    @Option(names = "--private-network-pool", paramLabel = "CIDR", description = "IPv4 block the private network's "
            + "addresses come from, for a new cluster (default 10.0.0.0/8); fixed once nodes hold addresses of it")
    String pool;

    @Option(names = "--private-network-nodes", paramLabel = "N", description = "nodes the private network numbers, "
            + "for a new cluster (default 63; rounded up to a power of two less one: one block is the gateways')")
    Integer nodes;

    @Option(names = "--private-network-namespaces", paramLabel = "N", description = "namespaces the private network "
            + "numbers, for a new cluster (default 1024; rounded up to a power of two)")
    Integer namespaces;

    /**
     * The plan asked for, the default's parts filling those not given; empty when no flag is given (the cluster's
     * plan, or the default for a new one).
     *
     * @throws IllegalArgumentException naming the flag when a value is out of range or the plan does not fit its pool
     */
    Optional<PrivateAddressing> plan() {
        if (pool == null && nodes == null && namespaces == null) return Optional.empty();
        var defaults = PrivateAddressing.DEFAULT;
        int nodeBits = nodes == null ? defaults.nodeBits() : bits(nodes, 1, "--private-network-nodes");
        int namespaceBits = namespaces == null ? defaults.namespaceBits()
                : bits(namespaces, 0, "--private-network-namespaces");
        try {
            return Optional.of(new PrivateAddressing(pool == null ? defaults.pool() : pool, nodeBits, namespaceBits));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--private-network-pool, --private-network-nodes, "
                    + "--private-network-namespaces: " + e.getMessage());
        }
    }

    /** {@code config} with the plan asked for, if any. */
    ServerConfig applyTo(ServerConfig config) {
        return plan().map(config::withPrivateNetwork).orElse(config);
    }

    /** The bits that number {@code count} (plus {@code reserved} blocks), at least one. */
    private static int bits(int count, int reserved, String flag) {
        if (count < 1 || count > MAX_COUNT) {
            throw new IllegalArgumentException(flag + " must be between 1 and " + MAX_COUNT + ", got " + count);
        }
        long blocks = (long) count + reserved;
        return Math.max(1, 64 - Long.numberOfLeadingZeros(blocks - 1));
    }
}
