package dev.bolero.scheduler;

/**
 * An amount of compute: whole vCPUs and MiB of memory. Used for a node's capacity (after the caller has applied any
 * overcommit ratio), for what is allocated on a node, and for what a machine asks for.
 *
 * @param cpus vCPUs, never negative
 * @param memoryMb memory in MiB, never negative
 * @throws IllegalArgumentException from the constructor when either amount is negative
 */
public record Resources(int cpus, long memoryMb) {

    /** Nothing. */
    public static final Resources ZERO = new Resources(0, 0);

    public Resources {
        if (cpus < 0 || memoryMb < 0) {
            throw new IllegalArgumentException("resources: negative amount (" + cpus + " vCPUs, " + memoryMb + " MiB)");
        }
    }

    /**
     * Returns the sum of both amounts.
     *
     * @throws ArithmeticException when a sum overflows
     */
    public Resources add(Resources other) {
        return new Resources(Math.addExact(cpus, other.cpus), Math.addExact(memoryMb, other.memoryMb));
    }

    /**
     * Returns this amount less {@code other}.
     *
     * @throws IllegalArgumentException when {@code other} is larger than this amount in either dimension
     */
    public Resources subtract(Resources other) {
        if (!fits(other)) {
            throw new IllegalArgumentException("resources: cannot take " + other.describe() + " from " + describe());
        }
        return new Resources(cpus - other.cpus, memoryMb - other.memoryMb);
    }

    /** Whether {@code demand} fits within this amount in both dimensions. */
    public boolean fits(Resources demand) {
        return demand.cpus <= cpus && demand.memoryMb <= memoryMb;
    }

    /** This amount as operators read it: {@code 4 vCPUs and 8192 MiB}. */
    public String describe() {
        return cpus + (cpus == 1 ? " vCPU" : " vCPUs") + " and " + memoryMb + " MiB";
    }
}
