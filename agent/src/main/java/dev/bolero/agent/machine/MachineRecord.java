package dev.bolero.agent.machine;

import dev.bolero.api.Machine;
import dev.bolero.core.MachineSpec;
import dev.bolero.core.MachineState;
import dev.bolero.runtime.VmHandle;
import java.time.Instant;
import java.util.Objects;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * A machine as the agent keeps it: the API's view plus the handle of its running VMM.
 *
 * @param namespace the tenant it belongs to: its network on the node
 * @param config its configuration
 * @param vmHandle the VMM's handle while one runs (persisted so a restarted agent can re-adopt it)
 * @param restartCount automatic restarts in a row under the machine's restart policy
 */
public record MachineRecord(
        String id,
        String name,
        String namespace,
        MachineState state,
        MachineSpec config,
        Optional<String> imageDigest,
        OptionalInt exitCode,
        Optional<String> error,
        Optional<VmHandle> vmHandle,
        Instant createdAt,
        Instant updatedAt,
        int restartCount) {

    public MachineRecord {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(namespace, "namespace");
        Objects.requireNonNull(state, "state");
        Objects.requireNonNull(config, "config");
        Objects.requireNonNull(imageDigest, "imageDigest");
        Objects.requireNonNull(exitCode, "exitCode");
        Objects.requireNonNull(error, "error");
        Objects.requireNonNull(vmHandle, "vmHandle");
        Objects.requireNonNull(createdAt, "createdAt");
        Objects.requireNonNull(updatedAt, "updatedAt");
        if (restartCount < 0) throw new IllegalArgumentException("restartCount must not be negative");
    }

    /** A new machine in state {@code created}. */
    public static MachineRecord created(String id, String name, String namespace, MachineSpec config, Instant now) {
        return new MachineRecord(id, name, namespace, MachineState.CREATED, config, Optional.empty(),
                OptionalInt.empty(), Optional.empty(), Optional.empty(), now, now, 0);
    }

    /** The API view, without the network address (which the node network knows). */
    public Machine toApi() {
        return new Machine(id, name, namespace, state, config, imageDigest.orElse(null),
                exitCode.isPresent() ? exitCode.getAsInt() : null, error.orElse(null), createdAt, updatedAt,
                restartCount, null, null, List.of());
    }

    /** This machine entering a start: the previous run's outcome is cleared. */
    MachineRecord starting(Instant now) {
        return new MachineRecord(id, name, namespace, MachineState.STARTING, config, imageDigest, OptionalInt.empty(),
                Optional.empty(), Optional.empty(), createdAt, now, restartCount);
    }

    MachineRecord withRestartCount(int count, Instant now) {
        return new MachineRecord(id, name, namespace, state, config, imageDigest, exitCode, error, vmHandle, createdAt,
                now, count);
    }

    MachineRecord withState(MachineState newState, Instant now) {
        return new MachineRecord(id, name, namespace, newState, config, imageDigest, exitCode, error, vmHandle,
                createdAt, now, restartCount);
    }

    MachineRecord withImageDigest(String digest, Instant now) {
        return new MachineRecord(id, name, namespace, state, config, Optional.of(digest), exitCode, error, vmHandle,
                createdAt, now, restartCount);
    }

    MachineRecord withVmHandle(Optional<VmHandle> handle, Instant now) {
        return new MachineRecord(id, name, namespace, state, config, imageDigest, exitCode, error, handle, createdAt,
                now, restartCount);
    }

    /** The run ended: the workload's exit code if it reported one, the VMM gone. */
    MachineRecord stopped(OptionalInt code, Instant now) {
        return new MachineRecord(id, name, namespace, MachineState.STOPPED, config, imageDigest, code, Optional.empty(),
                Optional.empty(), createdAt, now, restartCount);
    }

    /** The run failed for {@code reason}; the VMM gone. */
    MachineRecord failed(String reason, Instant now) {
        return new MachineRecord(id, name, namespace, MachineState.FAILED, config, imageDigest, OptionalInt.empty(),
                Optional.of(reason), Optional.empty(), createdAt, now, restartCount);
    }
}
