package dev.bolero.api.wire;

import dev.bolero.api.ApiException;
import dev.bolero.core.CheckStatus;
import dev.bolero.core.MachineState;
import java.util.List;

/**
 * A machine's observed state in a heartbeat.
 *
 * @param generation the assignment generation the agent last applied to it
 * @param privateIp its address on the private network (its namespace's subnet on the node); null when it has none
 * @param checks its health checks' last results, as the node API's {@code Machine.checks} (absent: none)
 */
public record MachineReport(String id, long generation, MachineState state, String imageDigest, Integer exitCode,
                            String error, String privateIp, List<CheckStatus> checks) {
    public MachineReport {
        checks = checks == null ? List.of() : List.copyOf(checks);
        if (id == null || id.isBlank()) throw ApiException.invalid("heartbeat: a machine report needs an id");
        if (state == null) throw ApiException.invalid("heartbeat: machine " + id + " needs a state");
    }
}
