package dev.bolero.api.wire;

import dev.bolero.core.FieldPath;

/**
 * A tenant's certificate for a custom host name ({@code PUT …/hostnames/{hostname}/certificate}): the gateways serve it
 * instead of an ACME one. Write-only: no answer repeats the key.
 *
 * @param certificate the PEM certificate chain, leaf first; the leaf must name the host and its key be this key
 * @param privateKey the leaf's unencrypted PEM private key (PKCS#8, PKCS#1 RSA or SEC1 EC)
 */
public record CertificateUpload(String certificate, String privateKey) {
    /** The largest PEM text of either field: 64 KiB. */
    public static final int MAX_PEM_CHARS = 64 * 1024;

    public CertificateUpload {
        check(FieldPath.root().field("certificate"), certificate);
        check(FieldPath.root().field("private_key"), privateKey);
    }

    private static void check(FieldPath at, String pem) {
        if (at.required(pem).isBlank() || pem.length() > MAX_PEM_CHARS) {
            throw at.invalid("must be PEM text of 1 to " + MAX_PEM_CHARS + " characters, got " + pem.length());
        }
    }

    @Override
    public String toString() {
        return "CertificateUpload[certificate=(" + certificate.length() + " chars), private_key=(hidden)]";
    }
}
