package dev.bolero.gateway;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongSupplier;

/**
 * Chooses a machine for each request by {@link LeastOutstanding} within the fleet's hard limit, skipping unhealthy
 * and ejected machines (unless every healthy machine is ejected: then ejection is ignored, as a fleet that only
 * fails is better tried than refused). Keeps each machine's {@link BackendLoad} across route changes.
 */
final class Balancer {
    /** The outcome of {@link #acquire}. */
    sealed interface Choice {
        /** A machine took the request; {@code saturated} when even the least loaded one is over the soft limit. */
        record Chosen(Lease lease, boolean saturated) implements Choice {}

        /** Healthy machines exist but every one is at the hard limit. */
        record AtHardLimit() implements Choice {}

        /** No healthy machine (that the request has not tried already). */
        record NoHealthyMachine() implements Choice {}
    }

    private static final Choice AT_HARD_LIMIT = new Choice.AtHardLimit();
    private static final Choice NO_HEALTHY_MACHINE = new Choice.NoHealthyMachine();

    private final Map<String, BackendLoad> loads = new ConcurrentHashMap<>();
    private final AtomicInteger rotation = new AtomicInteger();
    private final OutlierPolicy policy;
    private final LongSupplier nanoClock;

    Balancer(OutlierPolicy policy, LongSupplier nanoClock) {
        this.policy = policy;
        this.nanoClock = nanoClock;
    }

    /**
     * Takes a machine of {@code route} for one request.
     *
     * @param tried machine ids this request already failed on (for retries), or an empty list
     */
    Choice acquire(Route route, List<String> tried) {
        List<Backend> backends = route.backends();
        int n = backends.size();
        long now = nanoClock.getAsLong();
        var load = new BackendLoad[n];
        var outstanding = new int[n];
        var eligible = new boolean[n];
        boolean anyUsable = false;
        boolean anyUnejected = false;
        for (int i = 0; i < n; i++) {
            Backend backend = backends.get(i);
            BackendLoad l = loads.get(backend.machineId());
            if (l == null) {
                l = loads.computeIfAbsent(backend.machineId(), id -> new BackendLoad(route.fleet(), id, now));
            }
            load[i] = l;
            outstanding[i] = l.outstanding();
            boolean usable = backend.healthy() && !tried.contains(backend.machineId());
            boolean unejected = usable && !l.ejected(now);
            anyUsable |= usable;
            anyUnejected |= unejected;
            eligible[i] = unejected;
        }
        if (!anyUsable) {
            return NO_HEALTHY_MACHINE;
        }
        if (!anyUnejected) {
            for (int i = 0; i < n; i++) {
                eligible[i] = backends.get(i).healthy() && !tried.contains(backends.get(i).machineId());
            }
        }
        int hard = route.concurrency().hardLimit();
        int start = rotation.getAndIncrement();
        while (true) {
            int i = LeastOutstanding.pick(outstanding, eligible, hard, start);
            if (i == LeastOutstanding.NONE) {
                return AT_HARD_LIMIT;
            }
            if (load[i].tryAcquire(hard, now)) {
                boolean saturated = outstanding[i] + 1 > route.concurrency().softLimit();
                return new Choice.Chosen(new Lease(backends.get(i), load[i], this), saturated);
            }
            outstanding[i] = load[i].outstanding();
        }
    }

    void release(BackendLoad load, boolean transportFailure) {
        load.release(transportFailure, nanoClock.getAsLong(), policy);
    }

    /** Tracks the machines {@code routes} lists (idle from now if new) and forgets those it no longer lists. */
    void follow(Routes routes) {
        long now = nanoClock.getAsLong();
        Set<String> live = new HashSet<>();
        for (Route route : routes.routes()) {
            for (Backend backend : route.backends()) {
                live.add(backend.machineId());
                loads.computeIfAbsent(backend.machineId(), id -> new BackendLoad(route.fleet(), id, now));
            }
        }
        loads.keySet().retainAll(live);
    }

    /** Every known machine's activity now. */
    List<BackendActivity> activity() {
        long now = nanoClock.getAsLong();
        var all = new ArrayList<BackendActivity>(loads.size());
        for (BackendLoad load : loads.values()) {
            all.add(load.activity(now));
        }
        return all;
    }
}
