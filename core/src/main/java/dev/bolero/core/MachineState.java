package dev.bolero.core;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;

/**
 * The states of a machine: reported by its node, shown by both APIs, stored by both stores. A control-plane machine's
 * desired state is one of {@link #RUNNING}, {@link #STOPPED}, {@link #SUSPENDED} and {@link #DESTROYED} (deleted, kept
 * until its node confirms). {@link #SUSPENDED}: the machine's memory and device state are saved on its node and its VMM
 * has ended; a start resumes it.
 */
public enum MachineState {
    CREATED, STARTING, RUNNING, STOPPING, STOPPED, FAILED, SUSPENDED, DESTROYED;

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
    public static MachineState parse(String wire) {
        return WireNames.parse(MachineState.class, "machine state", wire);
    }
}
