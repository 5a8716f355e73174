package dev.bolero.gateway;

import dev.bolero.api.tls.Certificates;
import dev.bolero.api.tls.Pem;
import dev.bolero.core.ValidationException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.List;

/**
 * A certificate chain (leaf first) and its private key, as a host name's TLS identity. The gateway picks among
 * several by the client's SNI name, matching each leaf's subject alternative names (wildcards included).
 */
public record CertifiedKey(List<X509Certificate> chain, PrivateKey key) {
    public CertifiedKey {
        chain = List.copyOf(chain);
        if (chain.isEmpty()) {
            throw new ValidationException("certified key: empty certificate chain");
        }
    }

    /** The leaf certificate, the one naming the hosts. */
    public X509Certificate leaf() {
        return chain.getFirst();
    }

    /**
     * Reads a PEM chain (leaf first) and a PEM private key (PKCS#8, or PKCS#1/SEC1 key pair) as a tenant uploads them.
     *
     * @throws IOException when a file cannot be read, or holds no certificate or no private key
     */
    public static CertifiedKey readPem(Path chainFile, Path keyFile) throws IOException {
        return parsePem(Files.readString(chainFile, StandardCharsets.US_ASCII), chainFile.toString(),
                Files.readString(keyFile, StandardCharsets.US_ASCII), keyFile.toString());
    }

    /**
     * Parses a PEM chain (leaf first) and its PEM private key, named in errors by {@code chainSource} and
     * {@code keySource}.
     *
     * @throws IOException when either does not parse, or holds no certificate or no private key
     */
    public static CertifiedKey parsePem(String chain, String chainSource, String key, String keySource)
            throws IOException {
        try {
            return new CertifiedKey(Pem.certificates("read certificate chain " + chainSource, chain),
                    Pem.privateKey("read private key " + keySource, key));
        } catch (ValidationException e) {
            throw new IOException(e.getMessage(), e);
        }
    }

    /**
     * Writes the chain and the key (PKCS#8) as PEM, each file created anew with mode 0600.
     *
     * @throws IOException when a file cannot be written
     */
    public void writePem(Path chainFile, Path keyFile) throws IOException {
        writePrivate(chainFile, Pem.encode(chain));
        writePrivate(keyFile, Pem.encode(key));
    }

    /** The DNS names the leaf certificate names (its subject alternative names), wildcards as {@code *.domain}. */
    public List<String> dnsNames() {
        return Certificates.dnsNames(leaf());
    }

    /** Whether the leaf names {@code host}, exactly or by a wildcard for its first label. */
    public boolean covers(String host) {
        return Certificates.covers(leaf(), host);
    }

    /** The leaf's {@code sha256:HEX}, as the control plane names an uploaded certificate. */
    public String fingerprint() {
        return Certificates.fingerprint(leaf());
    }

    /** Writes {@code text} to a new {@code file} (replacing one that exists) with mode 0600. */
    static void writePrivate(Path file, String text) throws IOException {
        Files.deleteIfExists(file);
        Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.writeString(file, text, StandardCharsets.US_ASCII, StandardOpenOption.TRUNCATE_EXISTING);
    }
}
