package dev.bolero.runtime;

import java.time.Instant;
import java.util.Map;
import java.util.Objects;

/**
 * What an agent persists about a running VMM so that a later agent can re-adopt it. Opaque to the agent: only the
 * driver named here interprets {@link #data()}.
 *
 * @param driver the driver's {@link VmmDriver#name()}
 * @param version the driver's handle format version; a driver refuses versions it does not know
 * @param pid the VMM's process id
 * @param startedAt the VMM process's start time as the kernel reports it; with {@code pid}, the process identity
 * @param data driver-specific values (socket paths, …)
 */
public record VmHandle(String driver, int version, long pid, Instant startedAt, Map<String, String> data) {
    public VmHandle {
        Objects.requireNonNull(driver, "driver");
        Objects.requireNonNull(startedAt, "startedAt");
        data = Map.copyOf(data);
    }
}
