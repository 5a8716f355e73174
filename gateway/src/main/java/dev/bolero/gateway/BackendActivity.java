package dev.bolero.gateway;

import java.time.Duration;

/**
 * What the gateway knows of one machine's traffic, for {@code auto_stop}: a machine with no request in flight whose
 * {@code idle} exceeds the fleet's {@code idle_timeout_s} may be stopped (down to {@code min_machines_running}).
 *
 * @param outstanding requests in flight now
 * @param idle time since the last request started, or since the gateway first saw the machine if none did
 * @param ejected whether the machine is out of rotation for failing
 */
public record BackendActivity(FleetKey fleet, String machineId, int outstanding, Duration idle, boolean ejected) {}
