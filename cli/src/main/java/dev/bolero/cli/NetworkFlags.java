package dev.bolero.cli;

import dev.bolero.network.HostAddresses;
import dev.bolero.network.NetworkConfig;
import dev.bolero.network.NetworkException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import picocli.CommandLine.Option;

/**
 * The machine-networking flags of a command that runs a node agent ({@code bolero agent}, {@code bolero up}): by
 * default machines get a per-namespace bridge, egress through NAT and published ports; {@code --no-network} turns it
 * off.
 */
final class NetworkFlags {
    @Option(names = "--network-pool", defaultValue = NetworkConfig.DEFAULT_POOL,
            description = "block each namespace's subnet (a /24) is carved from (default ${DEFAULT-VALUE})")
    String networkPool;

    @Option(names = "--publish-address",
            description = "host IPv4 address published ports listen on; default: the address of the default route's interface")
    String publishAddress;

    @Option(names = "--dns", description = "a name server handed to machines; repeat for more")
    List<String> dns = new ArrayList<>();

    @Option(names = "--network-device-prefix", defaultValue = NetworkConfig.DEFAULT_DEVICE_PREFIX,
            description = "prefix of the bridges and taps this agent owns (default ${DEFAULT-VALUE})")
    String devicePrefix;

    @Option(names = "--nft-table", defaultValue = NetworkConfig.DEFAULT_TABLE,
            description = "name of the nftables tables (inet and bridge) this agent owns (default ${DEFAULT-VALUE})")
    String nftTable;

    @Option(names = "--max-connections-per-machine", defaultValue = "" + NetworkConfig.DEFAULT_MAX_CONNECTIONS_PER_MACHINE,
            description = "connections (TCP, UDP and ICMP flows) one machine may have open through the node; new ones"
                    + " beyond are dropped (default ${DEFAULT-VALUE})")
    int maxConnectionsPerMachine;

    @Option(names = "--no-network", description = "give machines no network (for hosts where the agent may not create devices or nftables tables)")
    boolean noNetwork;

    /**
     * The agent's network configuration; empty with {@code --no-network}.
     *
     * @throws NetworkException when no publish address is given and the host has no default route
     */
    Optional<NetworkConfig> config() throws NetworkException {
        if (noNetwork) return Optional.empty();
        String publish = publishAddress != null ? publishAddress : HostAddresses.defaultRouteAddress();
        return Optional.of(new NetworkConfig(networkPool, NetworkConfig.DEFAULT_NAMESPACE_PREFIX, devicePrefix, nftTable,
                publish, dns, Optional.empty()).withMaxConnectionsPerMachine(maxConnectionsPerMachine));
    }
}
