package dev.bolero.api.wire;

/**
 * How much of each {@link QuotaResource} a namespace holds, or a request adds.
 *
 * @param machines live machines (deleted ones do not count, even before their node confirms them gone)
 * @param vcpus their vCPUs
 * @param memoryMib their guest memory in MiB
 * @param volumes volumes
 * @param volumeGib the volumes' sizes in GiB
 */
public record QuotaUsage(long machines, long vcpus, long memoryMib, long volumes, long volumeGib) {
    /** Nothing. */
    public static final QuotaUsage NONE = new QuotaUsage(0, 0, 0, 0, 0);

    /** {@code count} machines of {@code cpus} vCPUs and {@code memoryMib} MiB each. */
    public static QuotaUsage machines(long count, long cpus, long memoryMib) {
        return new QuotaUsage(count, count * cpus, count * memoryMib, 0, 0);
    }

    /** {@code count} volumes of {@code gib} GiB in all. */
    public static QuotaUsage volumes(long count, long gib) {
        return new QuotaUsage(0, 0, 0, count, gib);
    }

    public QuotaUsage plus(QuotaUsage other) {
        return new QuotaUsage(machines + other.machines, vcpus + other.vcpus, memoryMib + other.memoryMib,
                volumes + other.volumes, volumeGib + other.volumeGib);
    }

    public QuotaUsage minus(QuotaUsage other) {
        return new QuotaUsage(machines - other.machines, vcpus - other.vcpus, memoryMib - other.memoryMib,
                volumes - other.volumes, volumeGib - other.volumeGib);
    }
}
