package dev.bolero.api;

import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Locale;

/**
 * The fixed set of API error codes, each with its one HTTP status. {@link #TIMEOUT} is only sent by {@code wait}.
 */
public enum ErrorCode {
    INVALID_ARGUMENT(400),
    NOT_FOUND(404),
    TIMEOUT(408),
    CONFLICT(409),
    FAILED_PRECONDITION(400),
    INTERNAL(500),
    /** The machine's node cannot be reached now (control plane only: a stream its node did not pick up). */
    UNAVAILABLE(503);

    private final int httpStatus;

    ErrorCode(int httpStatus) {
        this.httpStatus = httpStatus;
    }

    /** The HTTP status this code is sent with. */
    public int httpStatus() {
        return httpStatus;
    }

    /** The wire name: lowercase. */
    @JsonValue
    public String wireName() {
        return name().toLowerCase(Locale.ROOT);
    }
}
