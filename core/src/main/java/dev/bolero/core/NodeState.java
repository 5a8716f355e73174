package dev.bolero.core;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;

/**
 * The states of a node. Its health is {@link #READY} or {@link #DOWN} (from heartbeats); its administrative state is
 * {@link #READY}, {@link #CORDONED} or {@link #DRAINING} (set by operators); the state shown is {@link #DOWN} when
 * down, else the administrative one.
 */
public enum NodeState {
    READY, DOWN, CORDONED, DRAINING;

    /** The wire and SQL name: lowercase. */
    @JsonValue
    public String wireName() {
        return WireNames.of(this);
    }

    /**
     * Parses a wire name.
     *
     * @throws ValidationException naming the value and the legal ones
     */
    @JsonCreator
    public static NodeState parse(String wire) {
        return WireNames.parse(NodeState.class, "node state", wire);
    }
}
