package dev.bolero.api.wire;

import dev.bolero.core.FieldPath;
import java.util.Locale;
import java.util.Optional;

/**
 * The body that attaches a custom host name to a fleet ({@code POST /v1/namespaces/{ns}/fleets/{f}/hostnames}),
 * optionally with the certificate the gateways serve for it; without one, each gateway gets one from its ACME server.
 *
 * @param hostname a DNS name outside the cluster's own domain, such as {@code www.example.org}; see {@link #check}
 * @param certificate the PEM certificate chain, leaf first, naming the host; null: ACME
 * @param privateKey the leaf's unencrypted PEM private key, given with {@code certificate}; stored encrypted and never
 *     shown again
 */
public record HostnameSpec(String hostname, String certificate, String privateKey) {
    /** The longest host name DNS allows, in characters. */
    public static final int MAX_LENGTH = 253;

    public HostnameSpec {
        hostname = check(FieldPath.root().field("hostname"), hostname);
        if ((certificate == null) != (privateKey == null)) {
            throw FieldPath.root().field(certificate == null ? "certificate" : "private_key")
                    .invalid("is required with " + (certificate == null ? "private_key" : "certificate"));
        }
    }

    /** The uploaded certificate, when one is given. */
    public Optional<CertificateUpload> upload() {
        return certificate == null ? Optional.empty() : Optional.of(new CertificateUpload(certificate, privateKey));
    }

    /**
     * The host name in its one form: lower case, without a trailing dot.
     *
     * @throws dev.bolero.core.ValidationException at {@code at} unless it is a DNS name of at least two labels, each
     *     1-63 of {@code a-z 0-9 -} not starting or ending with '-', at most {@value #MAX_LENGTH} characters, whose
     *     last label is not all digits (an address is not a host name); wildcards are refused: attach each name
     */
    public static String check(FieldPath at, String hostname) {
        String name = at.required(hostname).toLowerCase(Locale.ROOT);
        if (name.endsWith(".")) name = name.substring(0, name.length() - 1);
        if (name.startsWith("*")) {
            throw at.invalid("wildcard host names are not supported: attach each name, got '" + hostname + "'");
        }
        if (name.length() > MAX_LENGTH) {
            throw at.invalid("must be at most " + MAX_LENGTH + " characters, got " + name.length());
        }
        String[] labels = name.split("\\.", -1);
        if (labels.length < 2) throw at.invalid("must have at least two labels (www.example.org), got '" + hostname + "'");
        for (String label : labels) {
            if (!label.matches("[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?")) {
                throw at.invalid("must be DNS labels of 1-63 letters, digits or '-', not starting or ending with '-', "
                        + "separated by dots, got '" + hostname + "'");
            }
        }
        if (labels[labels.length - 1].matches("[0-9]+")) {
            throw at.invalid("must be a DNS name, not an address, got '" + hostname + "'");
        }
        return name;
    }

    @Override
    public String toString() {
        return "HostnameSpec[hostname=" + hostname + ", certificate=" + (certificate == null ? "acme" : "uploaded")
                + ", private_key=(hidden)]";
    }
}
