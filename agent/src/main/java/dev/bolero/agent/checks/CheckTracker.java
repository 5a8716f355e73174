package dev.bolero.agent.checks;

import dev.bolero.core.CheckStatus;
import dev.bolero.core.MachineSpec;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The health of one machine's checks over one run of its workload: each check's status, and how many times in a row
 * it has failed. Pure and not thread-safe: its owner (the machine's runner) feeds it results in order.
 *
 * <p>Every check starts {@code critical} ("not run yet"): a machine is healthy only once its checks have passed. A
 * status changes on the first result that disagrees with it; each change is returned, for the machine's events.
 */
public final class CheckTracker {
    /** The output of a check that has not run yet. */
    public static final String NOT_RUN = "not run yet";

    private final MachineSpec.Restart restart;
    private final Map<String, Entry> entries = new LinkedHashMap<>();

    private record Entry(CheckStatus status, int consecutiveFailures) {}

    /**
     * The tracker of {@code checks} for a run starting at {@code startedAt}, restarting the machine as
     * {@code restart} says.
     */
    public CheckTracker(Map<String, MachineSpec.Check> checks, MachineSpec.Restart restart, Instant startedAt) {
        this.restart = restart;
        new java.util.TreeSet<>(checks.keySet()).forEach(name -> entries.put(name, new Entry(
                new CheckStatus(name, CheckStatus.Status.CRITICAL, NOT_RUN, startedAt), 0)));
    }

    /**
     * Records a result of check {@code name} seen at {@code at}.
     *
     * @return the check's new status when it changed; empty when it stayed as it was
     * @throws IllegalArgumentException when the machine has no check {@code name}
     */
    public Optional<CheckStatus> record(String name, CheckResult result, Instant at) {
        Entry entry = entries.get(name);
        if (entry == null) throw new IllegalArgumentException("record a check result: no check '" + name + "'");
        CheckStatus.Status status = result.passing() ? CheckStatus.Status.PASSING : CheckStatus.Status.CRITICAL;
        int failures = result.passing() ? 0 : entry.consecutiveFailures() + 1;
        boolean changed = status != entry.status().status() || entry.status().output().equals(NOT_RUN);
        CheckStatus next = new CheckStatus(name, status, result.output(),
                changed ? at : entry.status().updatedAt());
        entries.put(name, new Entry(next, failures));
        return changed ? Optional.of(next) : Optional.empty();
    }

    /** The first check whose consecutive failures have reached the machine's restart threshold; empty when none. */
    public Optional<String> restartCause() {
        return entries.values().stream().filter(e -> restart.checkRestartDue(e.consecutiveFailures()))
                .map(e -> e.status().name()).findFirst();
    }

    /** Whether every check has passed on its last run (true for a machine without checks). */
    public boolean healthy() {
        return entries.values().stream().allMatch(e -> e.status().status() == CheckStatus.Status.PASSING);
    }

    /** Each check's status, in name order. */
    public List<CheckStatus> statuses() {
        return new ArrayList<>(entries.values().stream().map(Entry::status).toList());
    }
}
