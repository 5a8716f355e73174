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

    /**
     * Why a call got no answer, in words ({@code connection refused}, {@code timed out}, {@code unknown host
     * bolero.example}), never a Java class name.
     */
    public static String cause(Throwable e) {
        return switch (e) {
            case java.net.ConnectException c -> "connection refused";
            case java.net.http.HttpTimeoutException t -> "timed out";
            case java.net.UnknownHostException u -> "unknown host " + u.getMessage();
            case java.nio.channels.UnresolvedAddressException u -> "unknown host";
            default -> e.getCause() != null && e.getCause() != e ? cause(e.getCause())
                    : e.getMessage() != null ? e.getMessage() : "connection failed";
        };
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
