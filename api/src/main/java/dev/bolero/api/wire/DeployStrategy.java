package dev.bolero.api.wire;

import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Locale;

/**
 * How a deployment replaces a fleet's machines with machines of the new release. A new machine counts once it is
 * {@code running} with every check of its config passing; one that fails or is not healthy within the deployment's
 * {@link DeployPolicy#waitTimeoutS()} rolls the deployment back.
 */
public enum DeployStrategy {
    /** {@link DeployPolicy#maxUnavailable()} old machines at a time are deleted and as many new ones created. */
    ROLLING,
    /** One new machine beside the old ones first; once it is healthy, the rest as {@link #ROLLING}. */
    CANARY,
    /** A full new set beside the old one; once all are healthy, the old set is deleted. */
    BLUEGREEN,
    /** Every old machine deleted and every new one created at once. */
    IMMEDIATE;

    /** The strategy of a deployment that names none. */
    public static final DeployStrategy DEFAULT = ROLLING;

    @JsonValue
    public String wireName() {
        return name().toLowerCase(Locale.ROOT);
    }
}
