package dev.bolero.api.wire;

import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Locale;

/** Where a deployment is. {@link #RUNNING} and {@link #ROLLING_BACK} are active: at most one per fleet. */
public enum DeployStatus {
    /** Replacing the fleet's machines with machines of its target release. */
    RUNNING,
    /** Every machine runs the target release and is healthy. */
    SUCCEEDED,
    /** A new machine failed: going back to the release the fleet had before. */
    ROLLING_BACK,
    /** Back on the release the fleet had before, every machine healthy. */
    ROLLED_BACK,
    /** The rollback's own machines failed too; the fleet stays as it is, its message saying why. */
    FAILED;

    /** Whether the reconciler still drives it. */
    public boolean active() {
        return this == RUNNING || this == ROLLING_BACK;
    }

    @JsonValue
    public String wireName() {
        return name().toLowerCase(Locale.ROOT);
    }
}
