package dev.bolero.network;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * How a node's internal DNS server runs.
 *
 * @param port the UDP and TCP port served on each address {@link InternalDns#listenOn} is given; 53 on a node (guests
 *     ask their gateway), 0 for any free port (chosen per address)
 * @param upstreams the resolvers names outside {@code .internal} are forwarded to, tried in order; usually
 *     {@link #upstreamsOf(Path) those of /etc/resolv.conf}
 * @param upstreamTimeout how long one upstream may take before the next is tried
 * @param netns the network namespace (as {@code ip netns} names it) whose addresses are served; empty for the
 *     process's own. Forwarded queries leave from the process's own namespace
 */
public record InternalDnsConfig(int port, List<InetSocketAddress> upstreams, Duration upstreamTimeout,
        Optional<String> netns) {
    public InternalDnsConfig {
        if (port < 0 || port > 65535) throw new IllegalArgumentException("internal DNS port out of range: " + port);
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
