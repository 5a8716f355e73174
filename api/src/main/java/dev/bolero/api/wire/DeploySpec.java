package dev.bolero.api.wire;

import dev.bolero.api.ApiException;
import dev.bolero.core.MachineSpec;

/**
 * Body of {@code POST /v1/namespaces/{ns}/fleets/{fleet}/deployments}: what to deploy, exactly one of {@code config}
 * (a new machine config for the fleet, made a new release when it differs from the current one) and {@code version}
 * (an existing release: a rollback or a redeploy), and how ({@link DeployPolicy}: absent fields take its defaults).
 *
 * @param config the fleet's whole new machine config
 * @param version the release to deploy
 * @throws ApiException {@code invalid_argument} unless exactly one of {@code config} and {@code version} is given,
 *     or naming a bad policy field
 */
public record DeploySpec(MachineSpec.Overlay config, Long version, DeployStrategy strategy, Integer maxUnavailable,
                         Integer waitTimeoutS) {
    public DeploySpec {
        if ((config == null) == (version == null)) {
            throw ApiException.invalid("deploy: give exactly one of config and version");
        }
        if (version != null && version < 1) throw ApiException.invalid("deploy: version must be at least 1");
        new DeployPolicy(strategy, maxUnavailable, waitTimeoutS); // validates the policy fields
    }

    /** A deployment of {@code config} under {@code policy}. */
    public static DeploySpec of(MachineSpec.Overlay config, DeployPolicy policy) {
        return new DeploySpec(config, null, policy.strategy(), policy.maxUnavailable(), policy.waitTimeoutS());
    }

    /** A deployment of release {@code version} under {@code policy}. */
    public static DeploySpec of(long version, DeployPolicy policy) {
        return new DeploySpec(null, version, policy.strategy(), policy.maxUnavailable(), policy.waitTimeoutS());
    }

    /** How it proceeds, defaults filled in. */
    public DeployPolicy policy() {
        return new DeployPolicy(strategy, maxUnavailable, waitTimeoutS);
    }
}
