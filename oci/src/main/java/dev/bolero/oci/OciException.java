package dev.bolero.oci;

/**
 * An image could not be prepared. The message names the action, the image and what failed, e.g.
 * {@code pull 127.0.0.1:5000/x:1: manifest unknown}.
 */
public final class OciException extends Exception {
    public OciException(String message) {
        super(message);
    }

    public OciException(String message, Throwable cause) {
        super(message, cause);
    }
}
