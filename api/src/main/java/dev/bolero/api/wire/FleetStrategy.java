package dev.bolero.api.wire;

import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Locale;

/**
 * How a fleet's machines are placed. {@link #SPREAD} ranks nodes by fewest machines of the fleet, then emptiest;
 * {@link #BINPACK} ranks by fullest after placement, ignoring where the fleet's other machines are.
 */
public enum FleetStrategy {
    SPREAD, BINPACK;

    @JsonValue
    public String wireName() {
        return name().toLowerCase(Locale.ROOT);
    }
}
