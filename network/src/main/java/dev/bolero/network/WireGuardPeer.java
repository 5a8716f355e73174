package dev.bolero.network;

import java.util.List;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * Another node as this node's WireGuard link should know it: what the control plane hands out for every node that is
 * up (from the join and heartbeat protocol).
 *
 * @param publicKey the peer node's public key, WireGuard base64 ({@link NodeKey#publicKey()})
 * @param endpoint where the peer's link listens, {@code IPv4:port} (an address literal, never a host name)
 * @param allowedIps the addresses the peer hosts, CIDR blocks ({@link PrivateAddressing#nodeBlock}); packets to them
 *     go to this peer, and packets from this peer are accepted only from them
 */
public record WireGuardPeer(String publicKey, String endpoint, List<String> allowedIps) {
    private static final Pattern ENDPOINT = Pattern.compile("(\\d{1,3}(?:\\.\\d{1,3}){3}):(\\d{1,5})");

    public WireGuardPeer {
        NodeKey.decode(publicKey, "peer public key");
        var m = ENDPOINT.matcher(Objects.requireNonNull(endpoint, "endpoint"));
        if (!m.matches()) throw new IllegalArgumentException("peer endpoint is not IPv4:port: " + endpoint);
        Ipv4.parse(m.group(1), "peer endpoint address");
        int port = Integer.parseInt(m.group(2));
        if (port < 1 || port > 65535) throw new IllegalArgumentException("peer endpoint port out of range: " + endpoint);
        allowedIps = List.copyOf(allowedIps);
        allowedIps.forEach(cidr -> Ipv4.Cidr.parse(cidr, "peer allowed IPs"));
    }
}
