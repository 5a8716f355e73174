package dev.bolero.network;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * How a node's internal DNS server runs.
 *
 * @param listen the UDP and TCP address to serve; on a node {@code 0.0.0.0:53} (guests ask their gateway, and the
 *     nftables rules let nothing else in), port 0 for any free port
 * @param upstreams the resolvers names outside {@code .internal} are forwarded to, tried in order; usually
 *     {@link #upstreamsOf(Path) those of /etc/resolv.conf}
 * @param upstreamTimeout how long one upstream may take before the next is tried
 * @param netns the network namespace (as {@code ip netns} names it) whose {@code listen} address is served; empty for
 *     the process's own. Forwarded queries leave from the process's own namespace
 */
public record InternalDnsConfig(InetSocketAddress listen, List<InetSocketAddress> upstreams, Duration upstreamTimeout,
        Optional<String> netns) {
    public InternalDnsConfig {
        Objects.requireNonNull(listen, "listen");
        NetworkConfig.requireNetns(netns);
        upstreams = List.copyOf(upstreams);
        if (upstreamTimeout.isNegative() || upstreamTimeout.isZero()) {
            throw new IllegalArgumentException("upstream timeout must be positive, got " + upstreamTimeout);
        }
    }

    /**
     * The {@code nameserver} lines of a resolv.conf file, on port 53; loopback resolvers (a local stub such as
     * systemd-resolved's 127.0.0.53) are kept, since the server runs on the host.
     *
     * @throws IOException if the file cannot be read
     */
    public static List<InetSocketAddress> upstreamsOf(Path resolvConf) throws IOException {
        var servers = new ArrayList<InetSocketAddress>();
        for (var line : Files.readAllLines(resolvConf)) {
            var fields = line.strip().split("\\s+");
            if (fields.length >= 2 && fields[0].equals("nameserver")) {
                var address = fields[1].split("%")[0];
                if (!address.matches("[0-9a-fA-F:.]+")) continue;
                servers.add(new InetSocketAddress(InetAddress.ofLiteral(address), 53));
            }
        }
        return servers;
    }
}
