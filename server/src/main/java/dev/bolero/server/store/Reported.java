package dev.bolero.server.store;

import dev.bolero.api.wire.MachineReport;
import dev.bolero.core.CheckStatus;
import dev.bolero.core.MachineState;
import java.util.List;
import java.util.Objects;

/**
 * What a machine's node last reported about it ({@link MachineReport}), as its row keeps it.
 *
 * @param state {@link MachineState#CREATED} before any report
 * @param imageDigest the digest its image resolved to; null until pulled
 * @param exitCode its workload's exit code once it exited; null otherwise
 * @param error why it failed, or why it awaits a node; null otherwise
 * @param privateIp its private-network address; null when it has none
 * @param checks its health checks' last results, in the node's order; empty without checks or before any report
 */
public record Reported(MachineState state, String imageDigest, Integer exitCode, String error, String privateIp,
                       List<CheckStatus> checks) {
    /** Nothing reported yet: {@code created}, no checks. */
    public static final Reported NONE = new Reported(MachineState.CREATED, null, null, null, null, List.of());

    public Reported {
        Objects.requireNonNull(state, "reported: state");
        checks = checks == null ? List.of() : List.copyOf(checks);
    }

    /** What {@code report} says. */
    public static Reported of(MachineReport report) {
        return new Reported(report.state(), report.imageDigest(), report.exitCode(), report.error(),
                report.privateIp(), report.checks());
    }

    /**
     * Whether the machine serves: reported {@code running} and, when its config has checks, every one of them
     * ({@code checkNames}) reported passing.
     */
    public boolean healthy(java.util.Set<String> checkNames) {
        if (state != MachineState.RUNNING) return false;
        var passing = new java.util.HashSet<String>();
        for (CheckStatus c : checks) {
            if (c.status() == CheckStatus.Status.PASSING) passing.add(c.name());
        }
        return passing.containsAll(checkNames);
    }
}
