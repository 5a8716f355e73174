package dev.bolero.gateway;

import java.io.IOException;

/** Where a {@link CertificateKeeper} gets a certificate for a host name it serves. */
@FunctionalInterface
public interface CertificateIssuer {
    /**
     * A new certificate whose leaf names {@code host} (directly, or by a wildcard): blocking, possibly for seconds.
     *
     * @throws IOException naming the host when none can be had now (the keeper tries again later)
     */
    CertifiedKey issue(String host) throws IOException, InterruptedException;
}
