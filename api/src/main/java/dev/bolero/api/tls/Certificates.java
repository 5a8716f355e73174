package dev.bolero.api.tls;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.cert.CertificateEncodingException;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;

/** What a leaf certificate says about host names, and how the API names a certificate. */
public final class Certificates {
    private Certificates() {}

    /** The DNS names {@code leaf} names (its subject alternative names), lower case, wildcards as {@code *.domain}. */
    public static List<String> dnsNames(X509Certificate leaf) {
        try {
            var names = leaf.getSubjectAlternativeNames();
            if (names == null) return List.of();
            return names.stream().filter(n -> Integer.valueOf(2).equals(n.get(0)))
                    .map(n -> ((String) n.get(1)).toLowerCase(Locale.ROOT)).toList();
        } catch (CertificateParsingException e) {
            return List.of();
        }
    }

    /** Whether {@code leaf} names {@code host}, exactly or by a wildcard for its first label. */
    public static boolean covers(X509Certificate leaf, String host) {
        String name = host.toLowerCase(Locale.ROOT);
        int dot = name.indexOf('.');
        return dnsNames(leaf).stream().anyMatch(n -> n.equals(name) || (dot > 0 && n.equals("*" + name.substring(dot))));
    }

    /** {@code sha256:HEX} of the certificate's DER encoding. */
    public static String fingerprint(X509Certificate certificate) {
        try {
            return "sha256:" + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                    .digest(certificate.getEncoded()));
        } catch (CertificateEncodingException e) {
            throw new IllegalArgumentException("fingerprint certificate: " + e.getMessage(), e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }
}
