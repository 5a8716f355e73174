package dev.bolero.api;

/** The body of every error response: {@code {"error": {"code": "…", "message": "…"}}}. */
public record ApiError(Body error) {
    /** The error's code and a message naming what failed. */
    public record Body(ErrorCode code, String message) {}

    public static ApiError of(ErrorCode code, String message) {
        return new ApiError(new Body(code, message));
    }
}
