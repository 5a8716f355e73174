package dev.bolero.oci;

import dev.bolero.core.Digest;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/** SHA-256 helpers. */
final class Sha256 {
    private Sha256() {}

    static MessageDigest newDigest() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }

    static Digest of(byte[] content) {
        return toDigest(newDigest().digest(content));
    }

    static Digest of(MessageDigest digest) {
        return toDigest(digest.digest());
    }

    private static Digest toDigest(byte[] hash) {
        return Digest.of("sha256", HexFormat.of().formatHex(hash));
    }
}
