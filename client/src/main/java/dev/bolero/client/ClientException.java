package dev.bolero.client;

/**
 * A call to the control plane that failed.
 *
 * @see #status()
 * @see #code()
 */
public final class ClientException extends RuntimeException {
    private final int status;
    private final String code;

    ClientException(String message, int status, String code, Throwable cause) {
        super(message, cause);
        this.status = status;
        this.code = code;
    }

    /** The HTTP status; 0 when no answer came (connection refused, timeout). */
    public int status() {
        return status;
    }

    /**
     * The API's error code ({@code not_found}, {@code conflict}, {@code invalid_argument}, {@code unauthenticated},
     * …), or {@code unavailable} when no answer came.
     */
    public String code() {
        return code;
    }
}
