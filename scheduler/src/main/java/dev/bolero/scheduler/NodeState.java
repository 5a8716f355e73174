package dev.bolero.scheduler;

/** The administrative and health state of a node. Only {@link #READY} nodes receive new machines. */
public enum NodeState {
    /** Healthy and accepting machines. */
    READY,
    /** Missed its heartbeats; its machines are presumed lost. */
    DOWN,
    /** Keeps its machines but takes no new ones. */
    CORDONED,
    /** Its machines are being moved elsewhere; takes no new ones. */
    DRAINING;

    /** The name used on the wire and in messages: {@code ready}, {@code down}, {@code cordoned}, {@code draining}. */
    public String wireName() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
