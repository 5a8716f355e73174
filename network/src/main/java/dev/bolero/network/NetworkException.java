package dev.bolero.network;

import java.util.Objects;

/** The node's network could not do what was asked. The message names the action and the object. */
public final class NetworkException extends Exception {

    /** Why: lets callers map the failure to an API error without parsing the message. */
    public enum Kind {
        /** The request collides with another machine's (a published port already taken, a machine already attached). */
        CONFLICT,
        /** No subnet left in the pool, or no address left in a namespace's subnet. */
        EXHAUSTED,
        /** A host command ({@code ip}, {@code nft}, {@code sysctl}) failed or could not be run. */
        HOST
    }

    private final Kind kind;

    public NetworkException(Kind kind, String message) {
        super(message);
        this.kind = Objects.requireNonNull(kind, "kind");
    }

    public NetworkException(Kind kind, String message, Throwable cause) {
        super(message, cause);
        this.kind = Objects.requireNonNull(kind, "kind");
    }

    public Kind kind() {
        return kind;
    }
}
