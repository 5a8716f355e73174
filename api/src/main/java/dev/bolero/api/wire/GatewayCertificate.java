package dev.bolero.api.wire;

/**
 * A tenant's uploaded certificate with its key, for the gateways only ({@code GET /v1/gateway/certificates/{hostname}},
 * admin): the one answer that carries a key, opened from the store for a gateway that serves the name.
 *
 * @param fingerprint the leaf's, as {@link GatewayRoutes.CustomHostname#certificate} names it
 * @param certificate the PEM chain, leaf first
 * @param privateKey the PKCS#8 PEM key
 */
public record GatewayCertificate(String hostname, String fingerprint, String certificate, String privateKey) {
    @Override
    public String toString() {
        return "GatewayCertificate[hostname=" + hostname + ", fingerprint=" + fingerprint + ", private_key=(hidden)]";
    }
}
