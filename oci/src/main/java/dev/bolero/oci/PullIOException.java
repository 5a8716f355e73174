package dev.bolero.oci;

import java.io.IOException;
import java.util.Optional;

/**
 * An I/O failure of a pull whose message says all there is to say: what was being done and why it stopped (a registry
 * that stalled, a disk budget used up). It travels through the streams a layer is read with as an IOException;
 * whoever turns it into an error message takes its message as it is, without the entry or stream it surfaced in.
 */
final class PullIOException extends IOException {
    PullIOException(String message) {
        super(message);
    }

    PullIOException(String message, Throwable cause) {
        super(message, cause);
    }

    /** What to say of {@code failure}: the message of the PullIOException among its causes, else its own toString. */
    static String describe(IOException failure) {
        return in(failure).map(Throwable::getMessage).orElse(failure.toString());
    }

    /** The PullIOException {@code failure} is or was caused by, if any. */
    static Optional<PullIOException> in(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof PullIOException p) {
                return Optional.of(p);
            }
        }
        return Optional.empty();
    }
}
