package dev.bolero.server.cluster;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.HexFormat;

/** Bearer tokens: 32 random bytes, base64url without padding; stored only as their hex SHA-256. */
public final class Tokens {
    private static final SecureRandom RANDOM = new SecureRandom();
    /**
     * A SHA-256 digest that is never used itself: each hash works on a clone of it, which costs a fraction of
     * {@link MessageDigest#getInstance}'s provider lookup (every authenticated request hashes its token).
     */
    private static final MessageDigest SHA_256;

    static {
        try {
            SHA_256 = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }

    private Tokens() {}

    /** A new random token. */
    public static String generate() {
        byte[] bytes = new byte[32];
        RANDOM.nextBytes(bytes);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }

    /** The hex SHA-256 of {@code token}, the only form the store keeps. */
    public static String hash(String token) {
        MessageDigest digest;
        try {
            digest = (MessageDigest) SHA_256.clone();
        } catch (CloneNotSupportedException e) {
            throw new IllegalStateException("this JVM's SHA-256 cannot be cloned", e);
        }
        return HexFormat.of().formatHex(digest.digest(token.getBytes(StandardCharsets.UTF_8)));
    }

    /** A new random id of 16 hex digits, like the agent's machine ids. */
    public static String id() {
        byte[] bytes = new byte[8];
        RANDOM.nextBytes(bytes);
        return HexFormat.of().formatHex(bytes);
    }
}
