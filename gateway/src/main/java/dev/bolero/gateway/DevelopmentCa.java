package dev.bolero.gateway;

import java.io.IOException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * The development mode's certificate authority: a local CA (P-256) kept in a directory, which issues the gateway
 * wildcard certificates: {@code <ns>.<domain>} and {@code *.<ns>.<domain>} cover every fleet of a namespace (a
 * wildcard matches one label only, so {@code *.<domain>} would not). Clients trust {@code ca.pem}. Every file it
 * writes is created with mode 0600.
 *
 * <p>Files: {@code ca.pem}, {@code ca.key}, and per name issued {@code <name>.pem} (leaf then CA), {@code <name>.key}.
 */
public final class DevelopmentCa implements CertificateIssuer {
    private static final Duration CA_LIFETIME = Duration.ofDays(3650);
    private static final Duration LEAF_LIFETIME = Duration.ofDays(90);

    private final Path directory;
    private final CertifiedKey ca;

    private DevelopmentCa(Path directory, CertifiedKey ca) {
        this.directory = directory;
        this.ca = ca;
    }

    /**
     * The CA kept in {@code directory}, created there if it has none yet.
     *
     * @throws IOException when the directory or its files cannot be read or written
     */
    public static DevelopmentCa openOrCreate(Path directory) throws IOException {
        Path cert = directory.resolve("ca.pem");
        Path key = directory.resolve("ca.key");
        if (Files.exists(cert) && Files.exists(key)) {
            return new DevelopmentCa(directory, CertifiedKey.readPem(cert, key));
        }
        Files.createDirectories(directory);
        KeyPair pair = newKeyPair();
        var name = new X500Name("CN=Bolero development CA");
        Instant now = Instant.now();
        try {
            var utils = new JcaX509ExtensionUtils();
            var builder = new JcaX509v3CertificateBuilder(name, serial(), Date.from(now.minus(Duration.ofMinutes(5))),
                    Date.from(now.plus(CA_LIFETIME)), name, pair.getPublic())
                    .addExtension(Extension.basicConstraints, true, new BasicConstraints(0))
                    .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign))
                    .addExtension(Extension.subjectKeyIdentifier, false, utils.createSubjectKeyIdentifier(pair.getPublic()));
            var ca = new CertifiedKey(List.of(sign(builder, pair)), pair.getPrivate());
            ca.writePem(cert, key);
            return new DevelopmentCa(directory, ca);
        } catch (GeneralSecurityException e) {
            throw new IOException("create development CA in " + directory + ": " + e.getMessage(), e);
        }
    }

    /** The CA's certificate file, the one clients trust. */
    public Path certificateFile() {
        return directory.resolve("ca.pem");
    }

    /**
     * Issues a fresh certificate for {@code domain} and {@code *.domain} (for a namespace: {@code <ns>.<domain>}),
     * and writes it beside the CA.
     *
     * @throws IOException when its files cannot be written
     */
    public CertifiedKey issueWildcard(String domain) throws IOException {
        KeyPair pair = newKeyPair();
        Instant now = Instant.now();
        try {
            var utils = new JcaX509ExtensionUtils();
            var names = new GeneralNames(new GeneralName[] {
                new GeneralName(GeneralName.dNSName, domain), new GeneralName(GeneralName.dNSName, "*." + domain)});
            var builder = new JcaX509v3CertificateBuilder(ca.leaf(), serial(), Date.from(now.minus(Duration.ofMinutes(5))),
                    Date.from(now.plus(LEAF_LIFETIME)), new X500Name("CN=*." + domain), pair.getPublic())
                    .addExtension(Extension.basicConstraints, true, new BasicConstraints(false))
                    .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature))
                    .addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(KeyPurposeId.id_kp_serverAuth))
                    .addExtension(Extension.subjectAlternativeName, false, names)
                    .addExtension(Extension.authorityKeyIdentifier, false, utils.createAuthorityKeyIdentifier(ca.leaf()));
            X509Certificate leaf = signWith(builder, ca.key());
            var issued = new CertifiedKey(List.of(leaf, ca.leaf()), pair.getPrivate());
            issued.writePem(directory.resolve(domain + ".pem"), directory.resolve(domain + ".key"));
            return issued;
        } catch (GeneralSecurityException e) {
            throw new IOException("issue certificate for *." + domain + ": " + e.getMessage(), e);
        }
    }

    /**
     * A certificate for {@code name} signed by its own key, valid for a day: what an HTTPS listener serves before it
     * has a real certificate (clients do not trust it).
     */
    public static CertifiedKey selfSigned(String name) {
        KeyPair pair = newKeyPair();
        Instant now = Instant.now();
        var subject = new X500Name("CN=" + name);
        var builder = new JcaX509v3CertificateBuilder(subject, serial(), Date.from(now.minus(Duration.ofMinutes(5))),
                Date.from(now.plus(Duration.ofDays(1))), subject, pair.getPublic());
        try {
            return new CertifiedKey(List.of(sign(builder, pair)), pair.getPrivate());
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("sign a self-signed certificate for " + name + ": " + e.getMessage(), e);
        }
    }

    /** Issues the wildcard of {@code host}'s parent: {@code web.alpha.example.com} gets {@code *.alpha.example.com}. */
    @Override
    public CertifiedKey issue(String host) throws IOException {
        int dot = host.indexOf('.');
        if (dot < 0) throw new IOException("issue certificate for " + host + ": not under a domain");
        return issueWildcard(host.substring(dot + 1));
    }

    private static KeyPair newKeyPair() {
        try {
            var generator = KeyPairGenerator.getInstance("EC");
            generator.initialize(new ECGenParameterSpec("secp256r1"));
            return generator.generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("generate a P-256 key: this JDK lacks EC", e);
        }
    }

    private static BigInteger serial() {
        return new BigInteger(128, new SecureRandom());
    }

    private static X509Certificate sign(X509v3CertificateBuilder builder, KeyPair pair) throws GeneralSecurityException {
        return signWith(builder, pair.getPrivate());
    }

    private static X509Certificate signWith(X509v3CertificateBuilder builder, java.security.PrivateKey key) throws GeneralSecurityException {
        try {
            var signer = new JcaContentSignerBuilder("SHA256withECDSA").build(key);
            return new JcaX509CertificateConverter().getCertificate(builder.build(signer));
        } catch (OperatorCreationException e) {
            throw new GeneralSecurityException("sign certificate: " + e.getMessage(), e);
        }
    }
}
