package dev.bolero.api;

import java.util.Objects;

/**
 * The one exception type of the API boundary: an {@link ErrorCode} and a message naming what failed and the object
 * (for example {@code machine 3f2a…: cannot start a running machine}). Thrown by request records when a value is
 * illegal and by the services behind the API.
 */
public final class ApiException extends RuntimeException {
    private final ErrorCode code;

    public ApiException(ErrorCode code, String message) {
        super(message);
        this.code = Objects.requireNonNull(code, "code");
    }

    /** The error's code, which fixes its HTTP status. */
    public ErrorCode code() {
        return code;
    }

    /** A request value is malformed or illegal ({@code 400}). */
    public static ApiException invalid(String message) {
        return new ApiException(ErrorCode.INVALID_ARGUMENT, message);
    }

    /** The caller's token may not use the route ({@code 403}). */
    public static ApiException permissionDenied(String message) {
        return new ApiException(ErrorCode.PERMISSION_DENIED, message);
    }

    /** A domain value is illegal ({@code 400}): the exception's message, which names the field's path. */
    public static ApiException invalid(dev.bolero.core.ValidationException e) {
        return invalid(e.getMessage());
    }

    /** No such object ({@code 404}). */
    public static ApiException notFound(String message) {
        return new ApiException(ErrorCode.NOT_FOUND, message);
    }

    /** The object's state forbids the request ({@code 409}). */
    public static ApiException conflict(String message) {
        return new ApiException(ErrorCode.CONFLICT, message);
    }

    /** The system cannot do it now, e.g. not enough capacity ({@code 400}, code {@code failed_precondition}). */
    public static ApiException failedPrecondition(String message) {
        return new ApiException(ErrorCode.FAILED_PRECONDITION, message);
    }

    /** The request would take a namespace past its quota ({@code 403}, code {@code quota_exceeded}). */
    public static ApiException quotaExceeded(String message) {
        return new ApiException(ErrorCode.QUOTA_EXCEEDED, message);
    }

    /** A wait ran out of time ({@code 408}). */
    public static ApiException timeout(String message) {
        return new ApiException(ErrorCode.TIMEOUT, message);
    }

    /** The machine's node cannot be reached now ({@code 503}). */
    public static ApiException unavailable(String message) {
        return new ApiException(ErrorCode.UNAVAILABLE, message);
    }

    /** The API's error body for this exception. */
    public ApiError toError() {
        return ApiError.of(code, getMessage());
    }
}
