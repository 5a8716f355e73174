package dev.bolero.runtime.guest;

import java.io.IOException;

/**
 * The guest sent something the protocol does not allow (an unknown frame type, an oversize length, a malformed
 * payload). The session is closed when this is thrown; the caller may reconnect.
 */
public final class GuestProtocolException extends IOException {
    public GuestProtocolException(String message) {
        super("guest protocol: " + message);
    }
}
