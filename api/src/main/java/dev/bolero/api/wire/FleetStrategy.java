package dev.bolero.api.wire;

import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Locale;

/**
 * How a fleet's machines are placed. {@link #SPREAD} ranks nodes by fewest machines of the fleet, then emptiest;
 * {@link #BINPACK} ranks by fullest after placement, ignoring where the fleet's other machines are.
 */
public enum FleetStrategy {
    SPREAD, BINPACK;

    /** A fleet's strategy when it names none: fill nodes before using more of them. */
    public static final FleetStrategy DEFAULT = BINPACK;

    @JsonValue
    public String wireName() {
        return name().toLowerCase(Locale.ROOT);
    }
}
