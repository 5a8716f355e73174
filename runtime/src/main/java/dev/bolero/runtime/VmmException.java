package dev.bolero.runtime;

/** A driver could not do what was asked. The message names the action and the machine. */
public final class VmmException extends Exception {
    public VmmException(String message) {
        super(message);
    }

    public VmmException(String message, Throwable cause) {
        super(message, cause);
    }
}
