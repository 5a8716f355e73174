package dev.bolero.server.secrets;

/** A secret or a data key that cannot be decrypted here: altered, misplaced, or wrapped by an unknown master key. */
public final class SecretsException extends RuntimeException {
    public SecretsException(String message) {
        super(message);
    }
}
