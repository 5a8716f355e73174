package dev.bolero.api.wire;

import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Locale;

/**
 * What happens to a running machine whose node is lost or drained. {@link #ALWAYS} and {@link #ON_FAILURE} move it to
 * another node (losing the node is a failure); {@link #NO} leaves it failed (node lost) or stopped (node drained).
 */
public enum RestartPolicy {
    ALWAYS, ON_FAILURE, NO;

    @JsonValue
    public String wireName() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    /** Whether a machine under this policy is moved off a lost or drained node. */
    public boolean moves() {
        return this != NO;
    }
}
