package dev.bolero.scheduler;

/** How the scheduler ranks the nodes that can take a machine. */
public enum Strategy {
    /** Prefer the node that is fullest after placement, keeping other nodes free for large machines. */
    BINPACK,
    /** Prefer the node that is emptiest after placement, spreading load and failure impact. */
    SPREAD
}
