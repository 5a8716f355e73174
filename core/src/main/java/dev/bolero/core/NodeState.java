package dev.bolero.core;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Arrays;
import java.util.Locale;

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
        return name().toLowerCase(Locale.ROOT);
    }

    /**
     * Parses a wire name.
     *
     * @throws ValidationException naming the value and the legal ones
     */
    @JsonCreator
    public static NodeState parse(String wire) {
        for (NodeState s : values()) {
            if (s.wireName().equals(wire)) return s;
        }
        throw new ValidationException("unknown node state '" + wire + "' (one of "
                + String.join(", ", Arrays.stream(values()).map(NodeState::wireName).toList()) + ")");
    }
}
