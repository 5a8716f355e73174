package dev.bolero.api;

import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Locale;

/** The states of a machine as the API shows them. */
public enum MachineState {
    CREATED, STARTING, RUNNING, STOPPING, STOPPED, FAILED, DESTROYED;

    /** The wire name: lowercase. */
    @JsonValue
    public String wireName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /**
     * Parses a wire name.
     *
     * @throws ApiException naming the value and the legal ones
     */
    public static MachineState parse(String wire) {
        for (MachineState s : values()) {
            if (s.wireName().equals(wire)) return s;
        }
        throw ApiException.invalid("unknown machine state '" + wire
                + "' (one of created, starting, running, stopping, stopped, failed, destroyed)");
    }
}
