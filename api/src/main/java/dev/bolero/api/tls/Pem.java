package dev.bolero.api.tls;

import dev.bolero.core.ValidationException;
import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.security.PrivateKey;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;

/**
 * PEM as tenants and ACME servers write it: certificate chains (leaf first) and unencrypted private keys (PKCS#8,
 * or a PKCS#1 RSA / SEC1 EC key pair). Needs BouncyCastle's {@code bcpkix}, which this module declares optional: the
 * processes that handle certificates (the server, the gateway) declare it themselves.
 */
public final class Pem {
    private Pem() {}

    /**
     * The certificates in {@code text}, in their order; other PEM objects are skipped.
     *
     * @param what names the text in errors ({@code certificate})
     * @throws ValidationException when the text is not PEM or holds no certificate
     */
    public static List<X509Certificate> certificates(String what, String text) {
        var converter = new JcaX509CertificateConverter();
        var chain = new ArrayList<X509Certificate>();
        try (var pem = new PEMParser(new StringReader(text))) {
            for (Object item = pem.readObject(); item != null; item = pem.readObject()) {
                if (item instanceof X509CertificateHolder holder) chain.add(converter.getCertificate(holder));
            }
        } catch (IOException | CertificateException | RuntimeException e) {
            throw new ValidationException(what + ": not a PEM certificate chain (" + e.getMessage() + ")");
        }
        if (chain.isEmpty()) throw new ValidationException(what + ": no PEM certificate (BEGIN CERTIFICATE) in it");
        return List.copyOf(chain);
    }

    /**
     * The first private key in {@code text}.
     *
     * @param what names the text in errors ({@code private_key})
     * @throws ValidationException when the text is not PEM or holds no unencrypted private key
     */
    public static PrivateKey privateKey(String what, String text) {
        var keys = new JcaPEMKeyConverter();
        try (var pem = new PEMParser(new StringReader(text))) {
            for (Object item = pem.readObject(); item != null; item = pem.readObject()) {
                PrivateKey key = switch (item) {
                    case PEMKeyPair pair -> keys.getPrivateKey(pair.getPrivateKeyInfo());
                    case PrivateKeyInfo info -> keys.getPrivateKey(info);
                    default -> null;
                };
                if (key != null) return key;
            }
        } catch (IOException | RuntimeException e) {
            throw new ValidationException(what + ": not a PEM private key (" + e.getMessage() + ")");
        }
        throw new ValidationException(what + ": no unencrypted PEM private key (BEGIN PRIVATE KEY, BEGIN RSA PRIVATE "
                + "KEY or BEGIN EC PRIVATE KEY) in it");
    }

    /** The certificates as PEM, in their order. */
    public static String encode(List<X509Certificate> chain) {
        return write(chain.toArray());
    }

    /** The key as PKCS#8 PEM ({@code BEGIN PRIVATE KEY}). */
    public static String encode(PrivateKey key) {
        try {
            return write(new JcaPKCS8Generator(key, null));
        } catch (org.bouncycastle.util.io.pem.PemGenerationException e) {
            throw new IllegalArgumentException("encode private key: " + e.getMessage(), e);
        }
    }

    private static String write(Object... objects) {
        var out = new StringWriter();
        try (var writer = new JcaPEMWriter(out)) {
            for (Object object : objects) writer.writeObject(object);
        } catch (IOException e) {
            throw new UncheckedIOException("encode PEM", e);
        }
        return out.toString();
    }
}
