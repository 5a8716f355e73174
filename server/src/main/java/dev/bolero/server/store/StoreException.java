package dev.bolero.server.store;

/** A database operation failed; the message names the action. */
public final class StoreException extends RuntimeException {
    public StoreException(String message, Throwable cause) {
        super(message, cause);
    }
}
