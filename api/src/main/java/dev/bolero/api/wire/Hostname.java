package dev.bolero.api.wire;

import com.fasterxml.jackson.annotation.JsonValue;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * A custom host name attached to a fleet, as the API shows it: never a private key.
 *
 * @param hostname the name, lower case; claimed by one namespace across the cluster
 * @param fleet the fleet its requests go to
 * @param source where the gateways' certificate for it comes from
 * @param certificate the uploaded certificate's leaf, when {@code source} is {@code uploaded}; null for {@code acme}
 */
public record Hostname(String hostname, String fleet, Source source, UploadedCertificate certificate,
                       Instant createdAt, Instant updatedAt) {
    public Hostname {
        Objects.requireNonNull(hostname, "hostname");
        Objects.requireNonNull(source, "source");
        if ((source == Source.UPLOADED) != (certificate != null)) {
            throw new IllegalArgumentException("hostname " + hostname + ": an uploaded certificate, and only that, "
                    + "has a leaf to show");
        }
    }

    /** Where a host name's certificate comes from. */
    public enum Source {
        /** Each gateway gets one from its ACME server (HTTP-01, answered by the gateway). */
        ACME,
        /** The tenant uploaded one, with its key. */
        UPLOADED;

        @JsonValue
        public String wireName() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /**
     * An uploaded certificate's leaf.
     *
     * @param fingerprint {@code sha256:HEX} of the leaf's DER encoding
     * @param dnsNames the DNS names the leaf names
     * @param version 1 at the first upload, one more at each replacement
     */
    public record UploadedCertificate(String fingerprint, List<String> dnsNames, String issuer, Instant notAfter,
                                      long version) {
        public UploadedCertificate {
            dnsNames = List.copyOf(dnsNames);
        }
    }
}
