package dev.bolero.gateway;

/**
 * A machine's failure history under an {@link OutlierPolicy}: a pure value, one per machine, replaced on each
 * outcome. Times are {@link System#nanoTime()} readings passed in, never read here.
 *
 * @param failuresInARow transport failures since the last success or ejection
 * @param ejections how many times the machine has been ejected (it decays by one per success after an ejection ends)
 * @param ejectedUntil the nano time the current ejection ends; meaningful only when {@code ejections > 0}
 */
record Ejection(int failuresInARow, int ejections, long ejectedUntil) {
    static final Ejection NONE = new Ejection(0, 0, 0);

    /** Whether the machine is out of rotation at {@code now}. */
    boolean ejected(long now) {
        return ejections > 0 && now - ejectedUntil < 0;
    }

    /** The history after a transport failure at {@code now}. */
    Ejection afterFailure(long now, OutlierPolicy policy) {
        if (ejected(now)) {
            return this;
        }
        int failures = failuresInARow + 1;
        if (failures < policy.consecutiveFailures()) {
            return new Ejection(failures, ejections, ejectedUntil);
        }
        int times = ejections + 1;
        long base = policy.baseEjection().toNanos();
        long max = policy.maxEjection().toNanos();
        long length = times > max / base ? max : Math.min(max, base * times);
        return new Ejection(0, times, now + length);
    }

    /** The history after a success at {@code now}. */
    Ejection afterSuccess(long now) {
        if (failuresInARow == 0 && (ejections == 0 || ejected(now))) {
            return this;
        }
        return new Ejection(0, ejected(now) ? ejections : Math.max(0, ejections - 1), ejectedUntil);
    }
}
