package dev.bolero.api.wire;

import java.time.Instant;
import java.util.List;

/**
 * What a machine uses, sampled by its node from the machine's cgroup and tap: the samples of a time window, oldest
 * first, the last one being current. Counters (CPU seconds, bytes, packets) only grow during a run of the VMM and
 * restart from zero with the next run.
 *
 * @param machineId the machine
 * @param samples at least one sample while the machine's VMM runs; empty when it does not
 */
public record MachineStats(String machineId, List<Sample> samples) {
    public MachineStats {
        samples = List.copyOf(samples);
    }

    /** One reading of every counter at {@code time}. */
    public record Sample(Instant time, Cpu cpu, Memory memory, Network network, Disk disk) {}

    /** @param seconds CPU time used by the VMM and its threads (guest and emulation) since it started */
    public record Cpu(double seconds) {}

    /**
     * @param bytes memory charged to the machine's cgroup now
     * @param limitBytes the cgroup's limit
     */
    public record Memory(long bytes, long limitBytes) {}

    /** Bytes and packets through the machine's tap, from the guest's point of view. */
    public record Network(long rxBytes, long txBytes, long rxPackets, long txPackets) {}

    /** Bytes the VMM read from and wrote to block devices (its drives). */
    public record Disk(long readBytes, long writeBytes) {}
}
