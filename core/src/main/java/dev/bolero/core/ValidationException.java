package dev.bolero.core;

/**
 * A domain value is illegal. The message starts with the path of the offending field as the API nests it
 * ({@code config.stop.timeout_s must be between 0 and 3600, got 4000}), so it can be shown to a client as it is.
 * The API maps it to {@code 400 invalid_argument}.
 */
public final class ValidationException extends IllegalArgumentException {
    public ValidationException(String message) {
        super(message);
    }
}
