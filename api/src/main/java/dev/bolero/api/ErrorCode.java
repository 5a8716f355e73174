package dev.bolero.api;

import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Locale;

/**
 * The fixed set of API error codes, each with its one HTTP status. {@link #TIMEOUT} is only sent by {@code wait}.
 */
public enum ErrorCode {
    INVALID_ARGUMENT(400),
    /** No token, or one the server does not know. */
    UNAUTHENTICATED(401),
    /** A valid token whose scope does not allow the route (a namespace token on an admin route). */
    PERMISSION_DENIED(403),
    NOT_FOUND(404),
    /** The route exists for other methods; the answer's {@code Allow} header lists them. */
    METHOD_NOT_ALLOWED(405),
    TIMEOUT(408),
    CONFLICT(409),
    /** The request body is larger than the API accepts. */
    TOO_LARGE(413),
    /** A request body whose {@code Content-Type} the route does not read (JSON routes read only JSON). */
    UNSUPPORTED_MEDIA_TYPE(415),
    FAILED_PRECONDITION(400),
    /**
     * The request would take the namespace past one of its quota's limits ({@code 403}: retrying the same request
     * does not help until the namespace uses less or its quota is raised, so it is no {@code 429}).
     */
    QUOTA_EXCEEDED(403),
    /** The token made more requests than its rate allows; the answer's {@code Retry-After} says when to retry. */
    RATE_LIMITED(429),
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
