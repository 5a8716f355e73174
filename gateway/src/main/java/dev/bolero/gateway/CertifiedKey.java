package dev.bolero.gateway;

import dev.bolero.core.ValidationException;
import java.io.IOException;
import java.io.Reader;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.PrivateKey;
import java.security.cert.CertificateException;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;

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
        var converter = new JcaX509CertificateConverter();
        var chain = new ArrayList<X509Certificate>();
        try (Reader reader = Files.newBufferedReader(chainFile, StandardCharsets.US_ASCII); var pem = new PEMParser(reader)) {
            for (Object item = pem.readObject(); item != null; item = pem.readObject()) {
                if (item instanceof X509CertificateHolder holder) {
                    chain.add(converter.getCertificate(holder));
                }
            }
        } catch (CertificateException e) {
            throw new IOException("read certificate chain " + chainFile + ": " + e.getMessage(), e);
        }
        if (chain.isEmpty()) {
            throw new IOException("read certificate chain " + chainFile + ": no certificate in it");
        }
        PrivateKey key = null;
        var keys = new JcaPEMKeyConverter();
        try (Reader reader = Files.newBufferedReader(keyFile, StandardCharsets.US_ASCII); var pem = new PEMParser(reader)) {
            for (Object item = pem.readObject(); item != null && key == null; item = pem.readObject()) {
                key = switch (item) {
                    case PEMKeyPair pair -> keys.getPrivateKey(pair.getPrivateKeyInfo());
                    case PrivateKeyInfo info -> keys.getPrivateKey(info);
                    default -> null;
                };
            }
        }
        if (key == null) {
            throw new IOException("read private key " + keyFile + ": no unencrypted private key in it");
        }
        return new CertifiedKey(chain, key);
    }

    /**
     * Writes the chain and the key (PKCS#8) as PEM, each file created anew with mode 0600.
     *
     * @throws IOException when a file cannot be written
     */
    public void writePem(Path chainFile, Path keyFile) throws IOException {
        writePrivate(chainFile, pem(chain.toArray()));
        writePrivate(keyFile, pem(new JcaPKCS8Generator(key, null)));
    }

    /** The DNS names the leaf certificate names (its subject alternative names), wildcards as {@code *.domain}. */
    public List<String> dnsNames() {
        try {
            var names = leaf().getSubjectAlternativeNames();
            if (names == null) return List.of();
            return names.stream().filter(n -> Integer.valueOf(2).equals(n.get(0)))
                    .map(n -> ((String) n.get(1)).toLowerCase(Locale.ROOT)).toList();
        } catch (CertificateParsingException e) {
            return List.of();
        }
    }

    /** Whether the leaf names {@code host}, exactly or by a wildcard for its first label. */
    public boolean covers(String host) {
        String name = host.toLowerCase(Locale.ROOT);
        int dot = name.indexOf('.');
        return dnsNames().stream().anyMatch(n -> n.equals(name) || (dot > 0 && n.equals("*" + name.substring(dot))));
    }

    private static String pem(Object... objects) {
        var out = new StringWriter();
        try (var writer = new JcaPEMWriter(out)) {
            for (Object object : objects) {
                writer.writeObject(object);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("encode PEM", e);
        }
        return out.toString();
    }

    /** Writes {@code text} to a new {@code file} (replacing one that exists) with mode 0600. */
    static void writePrivate(Path file, String text) throws IOException {
        Files.deleteIfExists(file);
        Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.writeString(file, text, StandardCharsets.US_ASCII, StandardOpenOption.TRUNCATE_EXISTING);
    }
}
