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
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * The step a fleet's active deployment takes now, from the fleet's machines alone: pure (no store, no clock), so a
 * deployment continues wherever and whenever the reconciler next looks, a server restart included.
 *
 * <p>The release being reached is the deployment's target while it runs, the release it came from while it rolls
 * back (the fleet's config is that release's: {@link Deployments}), read from the deployment itself, so a step never
 * mixes a fleet row and a deployment row read at different instants. A machine of that release counts as <em>new</em> when it is healthy or was made
 * since the deployment started; every other machine is <em>old</em> and goes. A new machine that fails, or is not
 * healthy within the policy's wait, rolls a running deployment back (a rollback whose own machines fail ends
 * {@link DeployStatus#FAILED}). While any new machine is still on its way, nothing else happens; then, in each
 * share of the fleet ({@link Reconciler.Share}: each region of a fleet with a count per region, the whole fleet
 * otherwise): machines beyond the share's count go (old ones, unhealthy and least useful first), missing ones are
 * created new in its region; once every share has its count, the strategy replaces the rest:
 * {@code rolling} deletes {@code max_unavailable} old machines of the whole fleet (unhealthy and least useful first,
 * whatever their region) and creates as many new ones, each in the region of the one it replaces; {@code canary}
 * first adds one new machine beside the old ones (in the region of the first old machine to go), then goes on as
 * rolling; {@code bluegreen} creates the whole new set, region by region, so the old set goes once it is healthy;
 * {@code immediate} deletes every old machine and creates every new one in its region.
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
        var isFresh = new HashSet<String>();
        fresh.forEach(m -> isFresh.add(m.id()));
        var regionOf = new HashMap<String, Optional<String>>();
        var oldByShare = new LinkedHashMap<Optional<String>, Integer>();
        boolean resized = false;
        for (Reconciler.Share share : f.shares()) {
            var freshHere = new ArrayList<MachineRow>();
            var oldHere = new ArrayList<MachineRow>();
            for (MachineRow m : share.machines()) {
                (isFresh.contains(m.id()) ? freshHere : oldHere).add(m);
                regionOf.put(m.id(), share.region());
            }
            oldHere.sort(OLD_FIRST);
            resized |= size(actions, f, d, share, freshHere, oldHere, target, now);
            if (!oldHere.isEmpty()) oldByShare.put(share.region(), oldHere.size());
        }
        if (resized) return actions;
        if (old.isEmpty()) {
            actions.add(done(d, target, now));
            return actions;
        }
        old.sort(OLD_FIRST);
        int step = Math.min(d.policy().maxUnavailable(), old.size());
        switch (d.policy().strategy()) {
            case ROLLING -> replace(actions, f, d, old.subList(0, step), regionOf, target, now);
            case CANARY -> {
                if (fresh.isEmpty() && d.status() == DeployStatus.RUNNING) {
                    grow(actions, f, d, regionOf.get(old.getFirst().id()), 1, target, " as the canary", now);
                } else {
                    replace(actions, f, d, old.subList(0, step), regionOf, target, now);
                }
            }
            case BLUEGREEN -> oldByShare.forEach((region, n) ->
                    grow(actions, f, d, region, n, target, " beside the old ones", now));
            case IMMEDIATE -> replace(actions, f, d, old, regionOf, target, now);
        }
        return actions;
    }

    /** The order old machines go in: unhealthy before healthy, then the least useful first. */
    private static final Comparator<MachineRow> OLD_FIRST =
            Comparator.comparing(MachineRow::healthy).thenComparingInt(Reconciler::usefulness);

    /**
     * Brings {@code share}, whose machines are {@code fresh} and {@code old} (sorted {@link #OLD_FIRST}), to its
     * desired count before any replacement: the old machines beyond it go (then new ones, least useful first, once no
     * old one is left), missing ones are created new in its region. Whether it had to.
     */
    private static boolean size(List<Reconciler.Action> actions, Reconciler.FleetSize f, Deployment d,
                                Reconciler.Share share, List<MachineRow> fresh, List<MachineRow> old, long target,
                                Instant now) {
        int excess = fresh.size() + old.size() - share.desired();
        if (excess < 0) {
            grow(actions, f, d, share.region(), -excess, target, "", now);
        } else if (excess > 0) {
            var going = old.isEmpty() ? Reconciler.leastUseful(fresh, excess) : old.subList(0, Math.min(excess,
                    old.size()));
            for (MachineRow m : going) remove(actions, d, m, now);
        }
        return excess != 0;
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
     * Deletes the old machines {@code going} and creates as many machines of release {@code target}, each in the
     * region of the machine it replaces ({@code regionOf}, by machine id).
     */
    private static void replace(List<Reconciler.Action> actions, Reconciler.FleetSize f, Deployment d,
                                List<MachineRow> going, Map<String, Optional<String>> regionOf, long target,
                                Instant now) {
        var byRegion = new LinkedHashMap<Optional<String>, Integer>();
        for (MachineRow m : going) {
            note(actions, d, new DeployStep(now, DeployStep.Kind.REPLACING, m.id(), "replacing machine " + m.id()
                    + " of release " + m.configVersion() + " with one of release " + target));
            actions.add(new Reconciler.Action.Shrink(m));
            byRegion.merge(regionOf.get(m.id()), 1, Integer::sum);
        }
        byRegion.forEach((region, n) -> actions.add(new Reconciler.Action.Grow(f.namespace(), f.fleet(), region, n)));
    }

    /** Deletes machine {@code m} without a replacement. */
    private static void remove(List<Reconciler.Action> actions, Deployment d, MachineRow m, Instant now) {
        note(actions, d, new DeployStep(now, DeployStep.Kind.REMOVING, m.id(), "removing machine " + m.id()
                + " of release " + m.configVersion()));
        actions.add(new Reconciler.Action.Shrink(m));
    }

    /**
     * Creates {@code n} machines of release {@code target} in {@code region} (empty: wherever the fleet's machines
     * may go), {@code why} after the step's message.
     */
    private static void grow(List<Reconciler.Action> actions, Reconciler.FleetSize f, Deployment d,
                             Optional<String> region, int n, long target, String why, Instant now) {
        note(actions, d, new DeployStep(now, DeployStep.Kind.CREATING, null, "creating " + n + " machine"
                + (n == 1 ? "" : "s") + " of release " + target + region.map(r -> " in region " + r).orElse("")
                + why));
        actions.add(new Reconciler.Action.Grow(f.namespace(), f.fleet(), region, n));
    }

    /**
     * Notes {@code step} unless it says again what one of {@code d}'s last steps of its kind said (a create that fails
     * is tried again on every pass, in each region that lacks machines: one step each).
     */
    private static void note(List<Reconciler.Action> actions, Deployment d, DeployStep step) {
        for (DeployStep last : d.steps().reversed()) {
            if (last.kind() != step.kind()) break;
            if (Objects.equals(last.machineId(), step.machineId()) && last.message().equals(step.message())) return;
        }
        actions.add(new Reconciler.Action.Note(d, step));
    }
}
