package dev.bolero.server.cluster;

import dev.bolero.api.ApiException;
import dev.bolero.api.wire.DeployPolicy;
import dev.bolero.api.wire.DeploySpec;
import dev.bolero.api.wire.DeployStatus;
import dev.bolero.api.wire.DeployStep;
import dev.bolero.api.wire.Deployment;
import dev.bolero.api.wire.Fleet;
import dev.bolero.api.wire.Release;
import dev.bolero.core.MachineSpec;
import dev.bolero.server.store.FleetStore;
import dev.bolero.server.store.Page;
import dev.bolero.server.store.ServerStore;
import dev.bolero.server.store.Tx;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.OptionalLong;

/**
 * Fleets' releases and deployments. A deployment is only state: starting one moves the fleet's config to the target
 * release and records it; the reconciler ({@link Deploys}, carried out by {@link ClusterLoops}) does the rest, and ends
 * it through {@link #rollBack} and {@link #finish}. Public methods throw {@link ApiException} naming the action.
 */
public final class Deployments {
    private final ServerStore store;
    private final Clock clock;

    Deployments(ServerStore store, Clock clock) {
        this.store = store;
        this.clock = clock;
    }

    /**
     * Starts deploying {@code spec} to the fleet.
     *
     * @throws ApiException {@code not_found} for no such fleet or release, {@code failed_precondition} when the fleet
     *     has no {@code count}, {@code conflict} when it has an active deployment, {@code quota_exceeded} when its count
     *     of the new config's machines would take the namespace past its quota
     */
    public Deployment deploy(String namespace, String fleet, DeploySpec spec) {
        String action = "deploy fleet " + namespace + "/" + fleet;
        Instant now = clock.instant().truncatedTo(ChronoUnit.MILLIS);
        return store.write(action, tx -> {
            FleetStore.Template t = tx.fleets().template(namespace, fleet)
                    .orElseThrow(() -> ApiException.notFound(action + ": no fleet " + fleet));
            if (t.spec().scale().isEmpty()) {
                throw ApiException.failedPrecondition(action + ": it has no count (bolero scale " + fleet + " N)");
            }
            refuseActive(tx, namespace, fleet, action);
            MachineSpec.Overlay config;
            long version;
            if (spec.version() != null) {
                Release r = tx.releases().get(namespace, fleet, spec.version()).orElseThrow(() ->
                        ApiException.notFound(action + ": no release " + spec.version()));
                config = r.config();
                version = r.version();
            } else {
                config = spec.config();
                version = release(tx, namespace, fleet, t, config, now);
            }
            Quotas.checkFleet(tx, namespace, fleet, t.spec(), t.spec().withConfig(config), action);
            return start(tx, namespace, t, config, version, spec.policy(), version == t.configVersion()
                    ? "redeploying release " + version : "deploying release " + version + " over release "
                    + t.configVersion(), now);
        });
    }

    /**
     * Rolls every fleet of the namespace whose config gives its machines secret {@code secret} (and that keeps a
     * count) onto a new release of the same config, with the default policy (rolling, one at a time): each machine is
     * replaced by one that boots with the secret's current value. A fleet with an active deployment is left out (its
     * new machines get the current value anyway).
     *
     * @return the deployments started, by fleet name
     * @throws ApiException {@code not_found} when the secret does not exist
     */
    public List<Deployment> rollSecret(String namespace, String secret) {
        String action = "roll the fleets of " + namespace + " using secret " + secret;
        Instant now = clock.instant().truncatedTo(ChronoUnit.MILLIS);
        return store.write(action, tx -> {
            if (tx.secrets().info(namespace, secret).isEmpty()) {
                throw ApiException.notFound(action + ": no secret " + secret);
            }
            var started = new ArrayList<Deployment>();
            for (Fleet f : tx.fleets().list(namespace)) {
                var config = f.config();
                if (f.scale().isEmpty() || config == null || config.secrets() == null
                        || config.secrets().stream().noneMatch(s -> s.name().equals(secret))
                        || tx.deployments().active(namespace, f.name()).isPresent()) {
                    continue;
                }
                FleetStore.Template t = tx.fleets().template(namespace, f.name()).orElseThrow();
                long version = tx.releases().newest(namespace, f.name()) + 1;
                tx.releases().insert(namespace, f.name(), version, config, now);
                started.add(start(tx, namespace, t, config, version, new DeployPolicy(null, null, null),
                        "deploying release " + version + " over release " + t.configVersion() + " (the same config): "
                                + "secret " + secret + " changed", now));
            }
            return started;
        });
    }

    /** Makes {@code version} (of {@code config}) the fleet's release and records its running deployment. */
    private static Deployment start(Tx tx, String namespace, FleetStore.Template t, MachineSpec.Overlay config,
                                    long version, DeployPolicy policy, String what, Instant now) throws SQLException {
        tx.fleets().update(namespace, t.spec().withConfig(config), version, now);
        var started = new DeployStep(now, DeployStep.Kind.STARTED, null, what + ": " + policy.strategy().wireName()
                + ", max_unavailable " + policy.maxUnavailable() + ", wait_timeout_s " + policy.waitTimeoutS());
        var d = new Deployment(Tokens.id(), namespace, t.spec().name(), t.configVersion(), version, policy,
                DeployStatus.RUNNING, null, now, now, List.of(started));
        tx.deployments().insert(d);
        return d;
    }

    /** One deployment of the fleet. */
    public Deployment deployment(String namespace, String fleet, String id) {
        String action = "get deployment " + id + " of fleet " + namespace + "/" + fleet;
        return store.read(action, tx -> tx.deployments().get(namespace, id)).filter(d -> d.fleet().equals(fleet))
                .orElseThrow(() -> ApiException.notFound(action + ": no deployment " + id));
    }

    /**
     * One page of the fleet's deployments, newest first: those after deployment {@link Page#after} (the last id of the
     * previous page).
     *
     * @throws ApiException {@code not_found} for no such fleet, {@code invalid_argument} for a cursor that is no
     *     deployment of the fleet
     */
    public List<Deployment> deployments(String namespace, String fleet, Page page) {
        String action = "list deployments of fleet " + namespace + "/" + fleet;
        return store.read(action, tx -> {
            if (tx.fleets().template(namespace, fleet).isEmpty()) throw ApiException.notFound(action + ": no fleet " + fleet);
            if (page.after().isPresent() && tx.deployments().get(namespace, page.after().get())
                    .filter(d -> d.fleet().equals(fleet)).isEmpty()) {
                throw ApiException.invalid(action + ": cursor must be the last id of the previous page, and '"
                        + page.after().get() + "' is no deployment of fleet " + fleet);
            }
            return tx.deployments().list(namespace, fleet, page);
        });
    }

    /**
     * One page of the fleet's releases, newest first: those older than version {@link Page#after} (the last version of
     * the previous page).
     *
     * @throws ApiException {@code not_found} for no such fleet, {@code invalid_argument} for a cursor that is no
     *     version number
     */
    public List<Release> releases(String namespace, String fleet, Page page) {
        String action = "list releases of fleet " + namespace + "/" + fleet;
        OptionalLong before = page.after().map(cursor -> {
            if (!cursor.matches("[1-9][0-9]{0,17}")) {
                throw ApiException.invalid(action + ": cursor must be the last version of the previous page, a whole "
                        + "number from 1, got '" + cursor + "'");
            }
            return OptionalLong.of(Long.parseLong(cursor));
        }).orElse(OptionalLong.empty());
        return store.read(action, tx -> {
            if (tx.fleets().template(namespace, fleet).isEmpty()) throw ApiException.notFound(action + ": no fleet " + fleet);
            return tx.releases().list(namespace, fleet, before, page.limit());
        });
    }

    /**
     * The release of {@code config} for fleet {@code t}: its current one when the config is the same, otherwise a new
     * one (the newest plus one), recorded now.
     */
    static long release(Tx tx, String namespace, String fleet, FleetStore.Template t, MachineSpec.Overlay config,
                        Instant now) throws SQLException {
        if (Objects.equals(t.spec().config(), config)) return t.configVersion();
        long version = tx.releases().newest(namespace, fleet) + 1;
        tx.releases().insert(namespace, fleet, version, config, now);
        return version;
    }

    /** Throws {@code conflict} when the fleet has an active deployment. */
    static void refuseActive(Tx tx, String namespace, String fleet, String action) throws SQLException {
        var active = tx.deployments().active(namespace, fleet);
        if (active.isPresent()) {
            throw ApiException.conflict(action + ": deployment " + active.get().id() + " is still "
                    + active.get().status().wireName());
        }
    }

    /**
     * Turns running deployment {@code d} back: the fleet returns to its former release, {@code step} (its message the
     * reason) recorded with the turn.
     */
    void rollBack(Deployment d, DeployStep step) {
        String action = "roll back deployment " + d.id() + " of fleet " + d.namespace() + "/" + d.fleet();
        store.write(action, tx -> {
            if (!tx.deployments().transition(d.id(), DeployStatus.ROLLING_BACK, step.message(), clock.instant())) {
                return null;
            }
            tx.deployments().record(d.id(), step);
            var former = tx.releases().get(d.namespace(), d.fleet(), d.fromVersion());
            var t = tx.fleets().template(d.namespace(), d.fleet());
            if (former.isPresent() && t.isPresent()) {
                tx.fleets().update(d.namespace(), t.get().spec().withConfig(former.get().config()), d.fromVersion(),
                        clock.instant());
            }
            return null;
        });
    }

    /** Ends active deployment {@code d} with {@code status} and {@code message}, {@code step} recorded with the end. */
    void finish(Deployment d, DeployStatus status, String message, DeployStep step) {
        store.write("finish deployment " + d.id() + " of fleet " + d.namespace() + "/" + d.fleet(), tx -> {
            if (tx.deployments().transition(d.id(), status, message, clock.instant())) {
                tx.deployments().record(d.id(), step);
            }
            return null;
        });
    }

    /** Records {@code step} of deployment {@code d} while it is active. */
    void note(Deployment d, DeployStep step) {
        store.write("record a step of deployment " + d.id() + " of fleet " + d.namespace() + "/" + d.fleet(), tx -> {
            if (tx.deployments().active(d.namespace(), d.fleet()).filter(a -> a.id().equals(d.id())).isPresent()) {
                tx.deployments().record(d.id(), step);
            }
            return null;
        });
    }
}
