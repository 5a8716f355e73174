package dev.bolero.core;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import java.util.regex.Pattern;

/**
 * A content digest, {@code sha256:<64 lowercase hex>}: the identity of an image manifest or a blob. Only sha256 is
 * accepted: it is what every registry serves and what the blob store is keyed by.
 *
 * @param algorithm always {@code sha256}
 * @param hex 64 lowercase hexadecimal characters
 */
public record Digest(String algorithm, String hex) {
    private static final Pattern HEX = Pattern.compile("[0-9a-f]{64}");

    /** @throws IllegalArgumentException if the algorithm is not sha256 or the hex part is not 64 lowercase hex digits */
    public Digest {
        if (!"sha256".equals(algorithm)) {
            throw new ValidationException("digest algorithm '" + algorithm + "' is not supported (only sha256)");
        }
        if (hex == null || !HEX.matcher(hex).matches()) {
            throw new ValidationException("digest hex '" + hex + "' is not 64 lowercase hex digits");
        }
    }

    public static Digest of(String algorithm, String hex) {
        return new Digest(algorithm, hex);
    }

    /**
     * Parses {@code sha256:<hex>}.
     *
     * @throws ValidationException naming the input if it is not a valid sha256 digest
     */
    @JsonCreator
    public static Digest parse(String text) {
        int colon = text == null ? -1 : text.indexOf(':');
        if (colon < 0) {
            throw new ValidationException("digest '" + text + "' is not of the form sha256:<hex>");
        }
        try {
            return new Digest(text.substring(0, colon), text.substring(colon + 1));
        } catch (ValidationException e) {
            throw new ValidationException("digest '" + text + "': " + e.getMessage());
        }
    }

    @JsonValue
    @Override
    public String toString() {
        return algorithm + ":" + hex;
    }
}
