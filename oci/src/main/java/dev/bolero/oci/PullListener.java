package dev.bolero.oci;

/**
 * Observes a pull: called on the pulling threads (several at once when layers download concurrently), so
 * implementations must be thread-safe and quick. A listener that throws does not fail the pull; its exception is
 * logged and dropped.
 */
@FunctionalInterface
public interface PullListener {
    /** Ignores every event. */
    PullListener NONE = event -> { };

    void on(PullEvent event);
}
