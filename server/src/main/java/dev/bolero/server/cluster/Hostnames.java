package dev.bolero.server.cluster;

import dev.bolero.api.ApiException;
import dev.bolero.api.tls.Certificates;
import dev.bolero.api.tls.Pem;
import dev.bolero.api.wire.CertificateUpload;
import dev.bolero.api.wire.GatewayCertificate;
import dev.bolero.api.wire.Hostname;
import dev.bolero.api.wire.HostnameSpec;
import dev.bolero.core.FieldPath;
import dev.bolero.core.ValidationException;
import dev.bolero.server.secrets.Secrets;
import dev.bolero.server.store.HostnameStore;
import dev.bolero.server.store.Page;
import dev.bolero.server.store.ServerStore;
import dev.bolero.server.store.Tx;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.CertificateExpiredException;
import java.security.cert.CertificateNotYetValidException;
import java.security.cert.X509Certificate;
import java.sql.SQLException;
import java.time.Clock;
import java.util.Date;
import java.util.List;
import java.util.Optional;

/**
 * Custom host names: a tenant attaches names it owns to its fleets, and the gateways route them and serve a
 * certificate for each, the tenant's uploaded one or one from their ACME server. A name is claimed by at most one
 * namespace across the cluster. An uploaded key is sealed with the namespace's data key ({@link Secrets}) and shown to
 * no one but the gateways ({@link #gatewayCertificate}). Thread-safe.
 */
public final class Hostnames {
    private static final SecureRandom RANDOM = new SecureRandom();

    private final ServerStore store;
    private final Clock clock;
    private final Changes changes;
    private final Secrets secrets;

    Hostnames(ServerStore store, Clock clock, Changes changes, Secrets secrets) {
        this.store = store;
        this.clock = clock;
        this.changes = changes;
        this.secrets = secrets;
    }

    /**
     * Attaches {@code spec.hostname()} to fleet {@code fleet}, with the certificate it carries, if any.
     *
     * @throws ApiException {@code not_found} without the fleet; {@code conflict} when the name is claimed already (by
     *     this namespace or another, which is not named); {@code invalid_argument} for a certificate that does not
     *     parse, whose key is not its leaf's, that does not name the host, or that is not valid now
     */
    public Hostname attach(String namespace, String fleet, HostnameSpec spec) {
        String host = spec.hostname();
        String action = "attach hostname " + host + " to fleet " + namespace + "/" + fleet;
        Optional<Checked> certificate = spec.upload().map(u -> check(action, host, u));
        Hostname attached = store.update(action, tx -> {
            if (tx.fleets().get(namespace, fleet).isEmpty()) throw ApiException.notFound(action + ": no fleet " + fleet);
            var claimed = tx.hostnames().get(host);
            if (claimed.isPresent()) {
                throw ApiException.conflict(action + ": " + (claimed.get().namespace().equals(namespace)
                        ? "it is attached to fleet " + claimed.get().fleet() + " already"
                        : "another namespace has claimed it"));
            }
            tx.hostnames().insert(host, namespace, fleet, clock.instant());
            if (certificate.isPresent()) store(tx, namespace, host, certificate.get(), 1);
            return hostname(tx.hostnames().get(host).orElseThrow());
        });
        changes.signal();
        return attached;
    }

    /**
     * Replaces (or sets) the certificate the gateways serve for a host name of {@code fleet}.
     *
     * @throws ApiException {@code not_found} unless the fleet has the name; {@code invalid_argument} as for
     *     {@link #attach}
     */
    public Hostname upload(String namespace, String fleet, String hostname, CertificateUpload upload) {
        String host = pathHostname(hostname);
        String action = "upload the certificate of hostname " + host + " of fleet " + namespace + "/" + fleet;
        Checked certificate = check(action, host, upload);
        Hostname updated = store.update(action, tx -> {
            HostnameStore.Row row = owned(tx, action, namespace, fleet, host);
            store(tx, namespace, host, certificate, row.certificateVersion() + 1);
            return hostname(tx.hostnames().get(host).orElseThrow());
        });
        changes.signal();
        return updated;
    }

    /**
     * One page of the namespace's host names of {@code fleet}, by name.
     *
     * @throws ApiException {@code not_found} without the fleet
     */
    public List<Hostname> list(String namespace, String fleet, Page page) {
        String action = "list hostnames of fleet " + namespace + "/" + fleet;
        return store.read(action, tx -> {
            if (tx.fleets().get(namespace, fleet).isEmpty()) throw ApiException.notFound(action + ": no fleet " + fleet);
            return tx.hostnames().list(namespace, fleet, page).stream().map(Hostnames::hostname).toList();
        });
    }

    /** @throws ApiException {@code not_found} unless the fleet has the name */
    public Hostname get(String namespace, String fleet, String hostname) {
        String host = pathHostname(hostname);
        String action = "get hostname " + host + " of fleet " + namespace + "/" + fleet;
        return store.read(action, tx -> hostname(owned(tx, action, namespace, fleet, host)));
    }

    /** Releases a host name of {@code fleet}, and its certificate. @throws ApiException {@code not_found} */
    public void detach(String namespace, String fleet, String hostname) {
        String host = pathHostname(hostname);
        String action = "detach hostname " + host + " from fleet " + namespace + "/" + fleet;
        store.update(action, tx -> {
            owned(tx, action, namespace, fleet, host);
            return tx.hostnames().delete(host);
        });
        changes.signal();
    }

    /**
     * The uploaded certificate of {@code hostname} with its key opened, for a gateway.
     *
     * @throws ApiException {@code not_found} when the name has no uploaded certificate; {@code internal} when its key
     *     does not open here (the store was altered, or the master key that wrapped the namespace's key is gone)
     */
    public GatewayCertificate gatewayCertificate(String hostname) {
        String host = pathHostname(hostname);
        String action = "read the certificate of hostname " + host;
        return store.read(action, tx -> {
            var row = tx.hostnames().get(host).filter(r -> r.certificate().isPresent())
                    .orElseThrow(() -> ApiException.notFound(action + ": no uploaded certificate"));
            HostnameStore.Certificate certificate = row.certificate().orElseThrow();
            byte[] key = secrets.openPrivate(tx, row.namespace(), label(host), row.certificateVersion(),
                    certificate.sealedKey());
            try {
                return new GatewayCertificate(host, certificate.fingerprint(), certificate.chain(),
                        new String(key, StandardCharsets.US_ASCII));
            } finally {
                java.util.Arrays.fill(key, (byte) 0);
            }
        });
    }

    /** A certificate that passed {@link #check}, re-encoded: the chain as PEM, the key as PKCS#8 PEM. */
    private record Checked(List<X509Certificate> chain, String chainPem, byte[] keyPem) {}

    private Checked check(String action, String host, CertificateUpload upload) {
        try {
            List<X509Certificate> chain = Pem.certificates("certificate", upload.certificate());
            PrivateKey key = Pem.privateKey("private_key", upload.privateKey());
            X509Certificate leaf = chain.getFirst();
            if (!Certificates.covers(leaf, host)) {
                throw FieldPath.root().field("certificate").invalid("its leaf names " + Certificates.dnsNames(leaf)
                        + ", not " + host);
            }
            if (!matches(key, leaf)) {
                throw FieldPath.root().field("private_key").invalid("is not the key of the certificate's leaf");
            }
            try {
                leaf.checkValidity(Date.from(clock.instant()));
            } catch (CertificateExpiredException e) {
                throw FieldPath.root().field("certificate").invalid("expired at " + leaf.getNotAfter().toInstant());
            } catch (CertificateNotYetValidException e) {
                throw FieldPath.root().field("certificate").invalid("is not valid before "
                        + leaf.getNotBefore().toInstant());
            }
            return new Checked(chain, Pem.encode(chain), Pem.encode(key).getBytes(StandardCharsets.US_ASCII));
        } catch (ValidationException e) {
            throw ApiException.invalid(action + ": " + e.getMessage());
        }
    }

    /** Whether {@code key} signs what the leaf's public key verifies. */
    private static boolean matches(PrivateKey key, X509Certificate leaf) {
        String algorithm = switch (key.getAlgorithm()) {
            case "RSA" -> "SHA256withRSA";
            case "EC", "ECDSA" -> "SHA256withECDSA";
            case "Ed25519", "EdDSA" -> "Ed25519";
            default -> throw FieldPath.root().field("private_key").invalid("is a " + key.getAlgorithm()
                    + " key; RSA, EC and Ed25519 keys are supported");
        };
        byte[] challenge = new byte[32];
        RANDOM.nextBytes(challenge);
        try {
            Signature signer = Signature.getInstance(algorithm);
            signer.initSign(key);
            signer.update(challenge);
            byte[] signature = signer.sign();
            Signature verifier = Signature.getInstance(algorithm);
            verifier.initVerify(leaf.getPublicKey());
            verifier.update(challenge);
            return verifier.verify(signature);
        } catch (GeneralSecurityException e) {
            return false;
        }
    }

    private void store(Tx tx, String namespace, String host, Checked certificate, long version) throws SQLException {
        byte[] sealed = secrets.sealPrivate(tx, namespace, label(host), version, certificate.keyPem());
        java.util.Arrays.fill(certificate.keyPem(), (byte) 0);
        tx.hostnames().setCertificate(host, new HostnameStore.Certificate(certificate.chainPem(),
                Certificates.fingerprint(certificate.chain().getFirst()), sealed), version, clock.instant());
    }

    /** The row of {@code host} when {@code fleet} of {@code namespace} has it; {@code not_found} alike otherwise. */
    private static HostnameStore.Row owned(Tx tx, String action, String namespace, String fleet, String host)
            throws SQLException {
        return tx.hostnames().get(host).filter(r -> r.namespace().equals(namespace) && r.fleet().equals(fleet))
                .orElseThrow(() -> ApiException.notFound(action + ": fleet " + fleet + " has no hostname " + host));
    }

    private static String pathHostname(String hostname) {
        try {
            return HostnameSpec.check(FieldPath.root().field("hostname"), hostname);
        } catch (ValidationException e) {
            throw ApiException.invalid(e);
        }
    }

    /** What a host name's sealed key is bound to. */
    private static String label(String host) {
        return "hostname/" + host;
    }

    private static Hostname hostname(HostnameStore.Row row) {
        Hostname.UploadedCertificate uploaded = row.certificate().map(c -> {
            X509Certificate leaf = Pem.certificates("certificate", c.chain()).getFirst();
            return new Hostname.UploadedCertificate(c.fingerprint(), Certificates.dnsNames(leaf),
                    leaf.getIssuerX500Principal().getName(), leaf.getNotAfter().toInstant(), row.certificateVersion());
        }).orElse(null);
        return new Hostname(row.hostname(), row.fleet(), uploaded == null ? Hostname.Source.ACME
                : Hostname.Source.UPLOADED, uploaded, row.createdAt(), row.updatedAt());
    }
}
