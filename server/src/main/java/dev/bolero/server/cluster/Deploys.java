package dev.bolero.server.cluster;

import dev.bolero.api.wire.DeployStatus;
import dev.bolero.api.wire.DeployStep;
import dev.bolero.api.wire.Deployment;
import dev.bolero.core.MachineState;
import dev.bolero.server.store.MachineRow;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;

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

    /**
     * The actions that take deployment {@code d} of fleet {@code f} one step on at {@code now}, each step it takes
     * recorded at {@code now} ({@link Reconciler.Action.Note}, or with the rollback or the end): a new machine's first
     * healthy report, each machine replaced or removed, machines created; a create that keeps failing is noted once.
     */
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
        var actions = new ArrayList<Reconciler.Action>();
        var waiting = new ArrayList<MachineRow>();
        for (MachineRow m : fresh) {
            if (m.healthy()) {
                if (!m.createdAt().isBefore(d.createdAt()) && d.steps().stream().noneMatch(s ->
                        s.kind() == DeployStep.Kind.HEALTHY && m.id().equals(s.machineId()))) {
                    actions.add(new Reconciler.Action.Note(d, new DeployStep(now, DeployStep.Kind.HEALTHY, m.id(),
                            "machine " + m.id() + " of release " + target + " is healthy")));
                }
                continue;
            }
            String failure = failure(m, wait, now);
            if (failure != null) {
                actions.add(failed(d, m, failure, now));
                return actions;
            }
            waiting.add(m);
        }
        if (!waiting.isEmpty()) return actions;
        old.sort(Comparator.comparing(MachineRow::healthy).thenComparingInt(Reconciler::usefulness));
        int count = f.count();
        if (old.isEmpty()) {
            if (fresh.size() < count) {
                grow(actions, f, d, count - fresh.size(), target, "", now);
            } else if (fresh.size() > count) {
                for (Reconciler.Action a : Reconciler.resize(f)) {
                    if (a instanceof Reconciler.Action.Shrink shrink) remove(actions, d, shrink.machine(), now);
                }
            } else {
                actions.add(done(d, target, now));
            }
            return actions;
        }
        int excess = fresh.size() + old.size() - count;
        if (excess > 0) {
            for (MachineRow m : old.subList(0, Math.min(excess, old.size()))) remove(actions, d, m, now);
            return actions;
        }
        if (excess < 0) {
            grow(actions, f, d, -excess, target, "", now);
            return actions;
        }
        int missing = old.size(); // the new machines the fleet lacks, as many as old ones now
        int step = Math.min(d.policy().maxUnavailable(), old.size());
        switch (d.policy().strategy()) {
            case ROLLING -> replace(actions, f, d, old, step, target, now);
            case CANARY -> {
                if (fresh.isEmpty() && d.status() == DeployStatus.RUNNING) {
                    grow(actions, f, d, 1, target, " as the canary", now);
                } else {
                    replace(actions, f, d, old, step, target, now);
                }
            }
            case BLUEGREEN -> grow(actions, f, d, missing, target, " beside the old ones", now);
            case IMMEDIATE -> replace(actions, f, d, old, old.size(), target, now);
        }
        return actions;
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

    /** The end of {@code d} or the turn back after new machine {@code m} failed, {@code why}. */
    private static Reconciler.Action failed(Deployment d, MachineRow m, String why, Instant now) {
        if (d.status() == DeployStatus.RUNNING && d.fromVersion() != d.toVersion()) {
            return new Reconciler.Action.RollBack(d, new DeployStep(now, DeployStep.Kind.ROLLING_BACK, m.id(),
                    "release " + d.toVersion() + ": " + why));
        }
        String message = (d.status() == DeployStatus.RUNNING ? "release " + d.toVersion()
                : "rollback to release " + d.fromVersion()) + ": " + why;
        return new Reconciler.Action.Finish(d, DeployStatus.FAILED, message,
                new DeployStep(now, DeployStep.Kind.FAILED, m.id(), message));
    }

    private static Reconciler.Action done(Deployment d, long target, Instant now) {
        if (d.status() == DeployStatus.RUNNING) {
            return new Reconciler.Action.Finish(d, DeployStatus.SUCCEEDED, null, new DeployStep(now,
                    DeployStep.Kind.SUCCEEDED, null, "every machine runs release " + target + " and is healthy"));
        }
        return new Reconciler.Action.Finish(d, DeployStatus.ROLLED_BACK, d.message(), new DeployStep(now,
                DeployStep.Kind.ROLLED_BACK, null, "back on release " + target + ", every machine healthy"));
    }

    /**
     * Deletes the first {@code n} of the old machines (sorted least useful first) and creates as many machines of
     * release {@code target}.
     */
    private static void replace(List<Reconciler.Action> actions, Reconciler.FleetSize f, Deployment d,
                                List<MachineRow> old, int n, long target, Instant now) {
        for (MachineRow m : old.subList(0, n)) {
            note(actions, d, new DeployStep(now, DeployStep.Kind.REPLACING, m.id(), "replacing machine " + m.id()
                    + " of release " + m.configVersion() + " with one of release " + target));
            actions.add(new Reconciler.Action.Shrink(m));
        }
        actions.add(new Reconciler.Action.Grow(f.namespace(), f.fleet(), n));
    }

    /** Deletes machine {@code m} without a replacement. */
    private static void remove(List<Reconciler.Action> actions, Deployment d, MachineRow m, Instant now) {
        note(actions, d, new DeployStep(now, DeployStep.Kind.REMOVING, m.id(), "removing machine " + m.id()
                + " of release " + m.configVersion()));
        actions.add(new Reconciler.Action.Shrink(m));
    }

    /** Creates {@code n} machines of release {@code target}, {@code why} after the step's message. */
    private static void grow(List<Reconciler.Action> actions, Reconciler.FleetSize f, Deployment d, int n,
                             long target, String why, Instant now) {
        note(actions, d, new DeployStep(now, DeployStep.Kind.CREATING, null, "creating " + n + " machine"
                + (n == 1 ? "" : "s") + " of release " + target + why));
        actions.add(new Reconciler.Action.Grow(f.namespace(), f.fleet(), n));
    }

    /**
     * Notes {@code step} unless it says again what {@code d}'s last step said (a create that fails is tried again on
     * every pass: one step).
     */
    private static void note(List<Reconciler.Action> actions, Deployment d, DeployStep step) {
        DeployStep last = d.steps().isEmpty() ? null : d.steps().getLast();
        if (last != null && last.kind() == step.kind() && Objects.equals(last.machineId(), step.machineId())
                && last.message().equals(step.message())) {
            return;
        }
        actions.add(new Reconciler.Action.Note(d, step));
    }
}
