package dev.bolero.agent.machine;

import dev.bolero.api.ApiException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * What a node can give its machines: its CPUs and memory (minus a reserve for the host), each times its overcommit
 * ratio. vCPUs are time-shared, so their ratio is usually well above 1; memory's is usually 1. Immutable.
 *
 * @param cpus the host's CPUs
 * @param memoryMb the host's memory in MiB less the reserve
 * @param cpuOvercommit how many vCPUs per host CPU the machines may have together (1 to 100)
 * @param memoryOvercommit how many times {@code memoryMb} the machines may have together (1 to 100)
 */
public record NodeCapacity(int cpus, long memoryMb, double cpuOvercommit, double memoryOvercommit) {
    /** The default vCPUs per host CPU. */
    public static final double DEFAULT_CPU_OVERCOMMIT = 8.0;
    /** Memory kept for the host, the agent and the VMMs' own overhead. */
    public static final long DEFAULT_RESERVE_MB = 512;

    public NodeCapacity {
        if (cpus < 1) throw new IllegalArgumentException("cpus must be positive, got " + cpus);
        if (memoryMb < 1) throw new IllegalArgumentException("memoryMb must be positive, got " + memoryMb);
        if (!(cpuOvercommit >= 1.0 && cpuOvercommit <= 100.0 && memoryOvercommit >= 1.0
                && memoryOvercommit <= 100.0)) {
            throw new IllegalArgumentException("overcommit ratios must be between 1 and 100, got " + cpuOvercommit
                    + " and " + memoryOvercommit);
        }
    }

    /**
     * This host's capacity: {@code nproc} CPUs and {@code MemTotal} from {@code /proc/meminfo} less
     * {@link #DEFAULT_RESERVE_MB}.
     *
     * @throws UncheckedIOException when {@code /proc/meminfo} cannot be read
     */
    public static NodeCapacity ofHost(double cpuOvercommit, double memoryOvercommit) {
        try {
            long totalKb = Files.readAllLines(Path.of("/proc/meminfo")).stream()
                    .filter(l -> l.startsWith("MemTotal:"))
                    .map(l -> Long.parseLong(l.replaceAll("[^0-9]", "")))
                    .findFirst().orElseThrow(() -> new IOException("no MemTotal line"));
            long mb = Math.max(1, totalKb / 1024 - DEFAULT_RESERVE_MB);
            return new NodeCapacity(java.lang.Runtime.getRuntime().availableProcessors(), mb, cpuOvercommit,
                    memoryOvercommit);
        } catch (IOException e) {
            throw new UncheckedIOException("read /proc/meminfo: " + e.getMessage(), e);
        }
    }

    /** vCPUs the machines may have together. */
    public long allocatableCpus() {
        return (long) Math.floor(cpus * cpuOvercommit);
    }

    /** MiB the machines may have together. */
    public long allocatableMemoryMb() {
        return (long) Math.floor(memoryMb * memoryOvercommit);
    }

    /**
     * @param usedCpus vCPUs of the machines already running or starting
     * @param usedMemoryMb their memory
     * @throws ApiException {@code failed_precondition} naming what is asked and what is free when it does not fit
     */
    public void checkFits(String action, long usedCpus, long usedMemoryMb, int cpusWanted, int memoryMbWanted) {
        long freeCpus = allocatableCpus() - usedCpus;
        long freeMemory = allocatableMemoryMb() - usedMemoryMb;
        if (cpusWanted > freeCpus || memoryMbWanted > freeMemory) {
            throw ApiException.failedPrecondition(String.format(
                    "%s: the node cannot fit %d vCPUs and %d MiB: %d vCPUs and %d MiB free of %d and %d",
                    action, cpusWanted, memoryMbWanted, Math.max(0, freeCpus), Math.max(0, freeMemory),
                    allocatableCpus(), allocatableMemoryMb()));
        }
    }
}
