package dev.bolero.api.wire;

import dev.bolero.api.ApiException;
import java.util.Base64;
import java.util.regex.Pattern;

/**
 * A node's end of the private network, as its join and heartbeats carry it ({@code "private_network"}), or a gateway's,
 * as it registers in the mesh ({@code POST /v1/gateway/mesh}, {@link GatewayMembership}): what the nodes need to reach
 * it through WireGuard. Only the public key ever leaves the node.
 *
 * @param publicKey the node's WireGuard public key, base64 of 32 bytes (44 characters, as {@code wg pubkey} prints)
 * @param endpoint where its WireGuard link listens, {@code IPv4:port} (an address literal: peers on other hosts use it)
 * @param kind which WireGuard implementation carries the link; null in a join (the link is opened after it)
 * @throws ApiException {@code invalid_argument} if the key or the endpoint is malformed
 */
public record NodeLink(String publicKey, String endpoint, WireGuardKind kind) {
    private static final Pattern ENDPOINT =
            Pattern.compile("(25[0-5]|2[0-4]\\d|1?\\d?\\d)(\\.(25[0-5]|2[0-4]\\d|1?\\d?\\d)){3}:(\\d{1,5})");

    public NodeLink {
        byte[] key;
        try {
            key = publicKey == null ? null : Base64.getDecoder().decode(publicKey);
        } catch (IllegalArgumentException e) {
            key = null;
        }
        if (key == null || key.length != 32) {
            throw ApiException.invalid("private_network.public_key: expected base64 of 32 bytes, got " + publicKey);
        }
        endpointPort(endpoint);
    }

    /**
     * The port of an {@code IPv4:port} endpoint.
     *
     * @throws ApiException {@code invalid_argument} if it is not one
     */
    public static int endpointPort(String endpoint) {
        var m = endpoint == null ? null : ENDPOINT.matcher(endpoint);
        int port = m != null && m.matches() ? Integer.parseInt(m.group(4)) : -1;
        if (port < 1 || port > 65535) {
            throw ApiException.invalid("private_network.endpoint: expected IPv4:port, got " + endpoint);
        }
        return port;
    }
}
