package dev.bolero.api.wire;

import dev.bolero.core.MachineSpec;
import java.time.Instant;

/**
 * One version of a fleet's machine config, kept in its history: every create or update of the fleet that changes its
 * config makes the next one.
 *
 * @param version 1 for the fleet's first config, then one more than the newest
 * @param config the machine config; null for a fleet made without one
 * @param current whether the fleet's new machines are made from it ({@link Fleet#configVersion()})
 */
public record Release(long version, MachineSpec.Overlay config, Instant createdAt, boolean current) {}
