package dev.bolero.oci;

/** A step of preparing an image failed; the message says what, without the image (the caller adds it). */
final class PullException extends Exception {
    PullException(String message) {
        super(message);
    }

    PullException(String message, Throwable cause) {
        super(message, cause);
    }
}
