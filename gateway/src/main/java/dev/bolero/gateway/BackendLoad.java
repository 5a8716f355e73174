package dev.bolero.gateway;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/** One machine's live state in the gateway: requests in flight, when the last one started, its failure history. */
final class BackendLoad {
    final FleetKey fleet;
    final String machineId;
    private final AtomicInteger outstanding = new AtomicInteger();
    private final AtomicReference<Ejection> ejection = new AtomicReference<>(Ejection.NONE);
    private volatile long lastRequest;

    BackendLoad(FleetKey fleet, String machineId, long now) {
        this.fleet = fleet;
        this.machineId = machineId;
        this.lastRequest = now;
    }

    int outstanding() {
        return outstanding.get();
    }

    boolean ejected(long now) {
        return ejection.get().ejected(now);
    }

    /** Counts a request in, unless the machine already has {@code hardLimit} in flight. */
    boolean tryAcquire(int hardLimit, long now) {
        int current;
        do {
            current = outstanding.get();
            if (current >= hardLimit) {
                return false;
            }
        } while (!outstanding.compareAndSet(current, current + 1));
        lastRequest = now;
        return true;
    }

    /** Counts a request out and records how the machine did. */
    void release(boolean transportFailure, long now, OutlierPolicy policy) {
        outstanding.decrementAndGet();
        ejection.updateAndGet(e -> transportFailure ? e.afterFailure(now, policy) : e.afterSuccess(now));
    }

    BackendActivity activity(long now) {
        return new BackendActivity(fleet, machineId, outstanding(), java.time.Duration.ofNanos(now - lastRequest), ejected(now));
    }
}
