package dev.bolero.api;

/**
 * The virtual hardware of a machine.
 *
 * @param cpus vCPUs, 1 to 64 (default 1)
 * @param memoryMb guest RAM in MiB, 64 to 65536 (default 256)
 * @param rootfsMb the size in MiB of the machine's root file system, 64 to 1048576; null (the default) for the
 *     image's root drive as built (its files plus the node's free space). A machine asking for more gets a larger
 *     private view of the shared drive, grown when it boots; less than the image's drive fails the machine.
 */
public record GuestResources(Integer cpus, Integer memoryMb, Integer rootfsMb) {
    public static final int DEFAULT_CPUS = 1;
    public static final int DEFAULT_MEMORY_MB = 256;

    /** Resources with the image's root drive size. */
    public GuestResources(Integer cpus, Integer memoryMb) {
        this(cpus, memoryMb, null);
    }

    /** This request with defaults filled in, validated. */
    public GuestResources withDefaults() {
        int c = cpus == null ? DEFAULT_CPUS : cpus;
        int m = memoryMb == null ? DEFAULT_MEMORY_MB : memoryMb;
        if (c < 1 || c > 64) throw ApiException.invalid("guest.cpus must be between 1 and 64, got " + c);
        if (m < 64 || m > 65536) {
            throw ApiException.invalid("guest.memory_mb must be between 64 and 65536, got " + m);
        }
        if (rootfsMb != null && (rootfsMb < 64 || rootfsMb > 1048576)) {
            throw ApiException.invalid("guest.rootfs_mb must be between 64 and 1048576, got " + rootfsMb);
        }
        return new GuestResources(c, m, rootfsMb);
    }
}
