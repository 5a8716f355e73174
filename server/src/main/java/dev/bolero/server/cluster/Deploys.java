package dev.bolero.server.cluster;

import dev.bolero.api.wire.DeployStatus;
import dev.bolero.api.wire.Deployment;
import dev.bolero.core.MachineState;
import dev.bolero.server.store.MachineRow;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * The step a fleet's active deployment takes now, from the fleet's machines alone: pure (no store, no clock), so a
 * deployment continues wherever and whenever the reconciler next looks, a server restart included.
 *
 * <p>The release being reached is the deployment's target while it runs, the release it came from while it rolls
 * back (the fleet's config is that release's: {@link Deployments}), read from the deployment itself, so a step never
 * mixes a fleet row and a deployment row read at different instants. A machine of that release counts as <em>new</em> when it is healthy or was made
 * since the deployment started; every other machine is <em>old</em> and goes. A new machine that fails, or is not
 * healthy within the policy's wait, rolls a running deployment back (a rollback whose own machines fail ends
 * {@link DeployStatus#FAILED}). While any new machine is still on its way, nothing else happens; then:
 * machines beyond the count go (old ones, unhealthy and least useful first), missing ones are created new, and the
 * strategy replaces the rest:
 * {@code rolling} deletes {@code max_unavailable} old machines and creates as many new ones; {@code canary} first
 * adds one new machine beside the old ones, then goes on as rolling; {@code bluegreen} creates the whole new set, so
 * the old set goes once it is healthy; {@code immediate} deletes every old machine and creates every new one.
 */
final class Deploys {
    private Deploys() {}

    /** The actions that take deployment {@code d} of fleet {@code f} one step on at {@code now}. */
    static List<Reconciler.Action> step(Reconciler.FleetSize f, Deployment d, Instant now) {
        long target = d.status() == DeployStatus.ROLLING_BACK ? d.fromVersion() : d.toVersion();
        var fresh = new ArrayList<MachineRow>();
        var old = new ArrayList<MachineRow>();
        for (MachineRow m : f.machines()) {
            boolean current = m.configVersion() == target
                    && (m.healthy() || !m.createdAt().isBefore(d.createdAt()));
            (current ? fresh : old).add(m);
        }
        Duration wait = Duration.ofSeconds(d.policy().waitTimeoutS());
        var waiting = new ArrayList<MachineRow>();
        for (MachineRow m : fresh) {
            if (m.healthy()) continue;
            String failure = failure(m, wait, now);
            if (failure != null) return List.of(failed(d, failure));
            waiting.add(m);
        }
        if (!waiting.isEmpty()) return List.of();
        old.sort(Comparator.comparing(MachineRow::healthy).thenComparingInt(Reconciler::usefulness));
        int count = f.count();
        if (old.isEmpty()) {
            if (fresh.size() < count) return List.of(new Reconciler.Action.Grow(f.namespace(), f.fleet(),
                    count - fresh.size()));
            if (fresh.size() > count) return Reconciler.resize(f);
            return List.of(done(d));
        }
        int excess = fresh.size() + old.size() - count;
        if (excess > 0) return shrink(old, Math.min(excess, old.size()));
        if (excess < 0) return List.of(new Reconciler.Action.Grow(f.namespace(), f.fleet(), -excess));
        int missing = old.size(); // the new machines the fleet lacks, as many as old ones now
        return switch (d.policy().strategy()) {
            case ROLLING -> replace(f, old, Math.min(d.policy().maxUnavailable(), old.size()));
            case CANARY -> fresh.isEmpty() && d.status() == DeployStatus.RUNNING
                    ? List.of(new Reconciler.Action.Grow(f.namespace(), f.fleet(), 1))
                    : replace(f, old, Math.min(d.policy().maxUnavailable(), old.size()));
            case BLUEGREEN -> List.of(new Reconciler.Action.Grow(f.namespace(), f.fleet(), missing));
            case IMMEDIATE -> {
                var actions = new ArrayList<>(shrink(old, old.size()));
                actions.add(new Reconciler.Action.Grow(f.namespace(), f.fleet(), missing));
                yield actions;
            }
        };
    }

    /** Why new machine {@code m}, not healthy, has failed by {@code now}; null while it may still become healthy. */
    private static String failure(MachineRow m, Duration wait, Instant now) {
        if (m.observedState() == MachineState.FAILED) {
            return "machine " + m.id() + " failed" + (m.error() == null ? "" : ": " + m.error().lines().findFirst()
                    .orElse(""));
        }
        if (!now.isBefore(m.createdAt().plus(wait))) {
            return "machine " + m.id() + " not healthy after " + wait.toSeconds() + " s (" + m.observedState()
                    .wireName() + critical(m) + ")";
        }
        return null;
    }

    /** The names of {@code m}'s checks not passing, as a message suffix. */
    private static String critical(MachineRow m) {
        var names = m.reported().checks().stream()
                .filter(c -> c.status() != dev.bolero.core.CheckStatus.Status.PASSING)
                .map(c -> "check " + c.name() + " " + c.status().wireName()).toList();
        return names.isEmpty() ? "" : ", " + String.join(", ", names);
    }

    private static Reconciler.Action failed(Deployment d, String why) {
        return d.status() == DeployStatus.RUNNING && d.fromVersion() != d.toVersion()
                ? new Reconciler.Action.RollBack(d, "release " + d.toVersion() + ": " + why)
                : new Reconciler.Action.Finish(d, DeployStatus.FAILED, (d.status() == DeployStatus.RUNNING
                        ? "release " + d.toVersion() : "rollback to release " + d.fromVersion()) + ": " + why);
    }

    private static Reconciler.Action done(Deployment d) {
        return d.status() == DeployStatus.RUNNING
                ? new Reconciler.Action.Finish(d, DeployStatus.SUCCEEDED, null)
                : new Reconciler.Action.Finish(d, DeployStatus.ROLLED_BACK, d.message());
    }

    /** Deletes {@code n} of the old machines (sorted least useful first) and creates as many new ones. */
    private static List<Reconciler.Action> replace(Reconciler.FleetSize f, List<MachineRow> old, int n) {
        var actions = new ArrayList<>(shrink(old, n));
        actions.add(new Reconciler.Action.Grow(f.namespace(), f.fleet(), n));
        return actions;
    }

    private static List<Reconciler.Action> shrink(List<MachineRow> old, int n) {
        return old.subList(0, n).stream().<Reconciler.Action>map(Reconciler.Action.Shrink::new).toList();
    }
}
