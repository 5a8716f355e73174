package dev.bolero.gateway;

import dev.bolero.core.ValidationException;
import java.time.Duration;

/**
 * When a machine that keeps failing is taken out of rotation (passive outlier detection, as Envoy's): after
 * {@code consecutiveFailures} transport failures in a row it is ejected for {@code baseEjection} times the number of
 * times it has been ejected, at most {@code maxEjection}. A success resets the run of failures.
 */
public record OutlierPolicy(int consecutiveFailures, Duration baseEjection, Duration maxEjection) {
    /** Five failures in a row eject for 5 s, 10 s, … up to 60 s. */
    public static final OutlierPolicy DEFAULT = new OutlierPolicy(5, Duration.ofSeconds(5), Duration.ofSeconds(60));

    /** @throws ValidationException unless the run is positive and {@code 0 < base <= max} */
    public OutlierPolicy {
        if (consecutiveFailures < 1) {
            throw new ValidationException("outlier policy: consecutive_failures " + consecutiveFailures + " < 1");
        }
        if (baseEjection.isNegative() || baseEjection.isZero() || maxEjection.compareTo(baseEjection) < 0) {
            throw new ValidationException("outlier policy: need 0 < base_ejection " + baseEjection + " <= max_ejection " + maxEjection);
        }
    }
}
