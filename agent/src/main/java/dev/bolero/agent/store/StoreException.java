package dev.bolero.agent.store;

/** The local store failed; the message names the action. */
public final class StoreException extends RuntimeException {
    public StoreException(String message, Throwable cause) {
        super(message, cause);
    }
}
