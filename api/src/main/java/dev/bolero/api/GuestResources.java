package dev.bolero.api;

/**
 * The virtual hardware of a machine.
 *
 * @param cpus vCPUs, 1 to 64 (default 1)
 * @param memoryMb guest RAM in MiB, 64 to 65536 (default 256)
 */
public record GuestResources(Integer cpus, Integer memoryMb) {
    public static final int DEFAULT_CPUS = 1;
    public static final int DEFAULT_MEMORY_MB = 256;

    /** This request with defaults filled in, validated. */
    public GuestResources withDefaults() {
        int c = cpus == null ? DEFAULT_CPUS : cpus;
        int m = memoryMb == null ? DEFAULT_MEMORY_MB : memoryMb;
        if (c < 1 || c > 64) throw ApiException.invalid("guest.cpus must be between 1 and 64, got " + c);
        if (m < 64 || m > 65536) {
            throw ApiException.invalid("guest.memory_mb must be between 64 and 65536, got " + m);
        }
        return new GuestResources(c, m);
    }
}
