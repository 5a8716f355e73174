package dev.bolero.api.wire;

import dev.bolero.core.FieldPath;

/**
 * How a deployment proceeds.
 *
 * @param strategy default {@link DeployStrategy#DEFAULT}
 * @param maxUnavailable how many machines a {@link DeployStrategy#ROLLING} (or canary) step replaces at once: the
 *     fleet keeps at least {@code count - max_unavailable} healthy machines; 1 to {@value FleetSpec#MAX_COUNT},
 *     default 1
 * @param waitTimeoutS how long each new machine has to become healthy before the deployment rolls back; 1 to
 *     {@value #MAX_WAIT_S}, default {@value #DEFAULT_WAIT_S}
 */
public record DeployPolicy(DeployStrategy strategy, Integer maxUnavailable, Integer waitTimeoutS) {
    /** The longest wait for a machine. */
    public static final int MAX_WAIT_S = 3600;
    /** The wait for a machine when none is given. */
    public static final int DEFAULT_WAIT_S = 300;

    public DeployPolicy {
        if (strategy == null) strategy = DeployStrategy.DEFAULT;
        if (maxUnavailable == null) maxUnavailable = 1;
        if (waitTimeoutS == null) waitTimeoutS = DEFAULT_WAIT_S;
        FieldPath.root().field("max_unavailable").between(maxUnavailable, 1, FleetSpec.MAX_COUNT);
        FieldPath.root().field("wait_timeout_s").between(waitTimeoutS, 1, MAX_WAIT_S);
    }

    /** The default policy with {@code strategy}. */
    public static DeployPolicy of(DeployStrategy strategy) {
        return new DeployPolicy(strategy, null, null);
    }
}
