package dev.bolero.core;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Arrays;
import java.util.Locale;

/**
 * The states of a machine: reported by its node, shown by both APIs, stored by both stores. A control-plane machine's
 * desired state is one of {@link #RUNNING}, {@link #STOPPED} and {@link #DESTROYED} (deleted, kept until its node
 * confirms).
 */
public enum MachineState {
    CREATED, STARTING, RUNNING, STOPPING, STOPPED, FAILED, DESTROYED;

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
    public static MachineState parse(String wire) {
        for (MachineState s : values()) {
            if (s.wireName().equals(wire)) return s;
        }
        throw new ValidationException("unknown machine state '" + wire + "' (one of "
                + String.join(", ", Arrays.stream(values()).map(MachineState::wireName).toList()) + ")");
    }
}
