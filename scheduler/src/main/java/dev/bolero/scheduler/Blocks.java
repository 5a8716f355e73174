package dev.bolero.scheduler;

/**
 * Summaries of runs of up to {@value #SIZE} ready nodes of one class, so ranking can skip a run that cannot hold the
 * request or cannot beat the best node found so far. Copied once per batch before the first placement changes them.
 */
final class Blocks {

    static final int SIZE = 64;
    /** Bounds are compared with this slack so rounding can never skip a node that ties or beats the best. */
    private static final double SLACK = 1e-9;

    final int[] start;
    final int[] end;
    final long[] maxFreeCpu;
    final long[] maxFreeMem;
    final double[] maxFill;
    final double[] minFill;
    final double[] maxInverseCpu;
    final double[] maxInverseMem;
    final double[] minInverseCpu;
    final double[] minInverseMem;

    Blocks(int[] start, int[] end) {
        this.start = start;
        this.end = end;
        int n = start.length;
        maxFreeCpu = new long[n];
        maxFreeMem = new long[n];
        maxFill = new double[n];
        minFill = new double[n];
        maxInverseCpu = new double[n];
        maxInverseMem = new double[n];
        minInverseCpu = new double[n];
        minInverseMem = new double[n];
    }

    private Blocks(Blocks other) {
        start = other.start;
        end = other.end;
        maxFreeCpu = other.maxFreeCpu.clone();
        maxFreeMem = other.maxFreeMem.clone();
        maxFill = other.maxFill.clone();
        minFill = other.minFill.clone();
        maxInverseCpu = other.maxInverseCpu;
        maxInverseMem = other.maxInverseMem;
        minInverseCpu = other.minInverseCpu;
        minInverseMem = other.minInverseMem;
    }

    /** A copy whose load summaries can be refreshed without touching this one. */
    Blocks copy() {
        return new Blocks(this);
    }

    /** Recomputes block {@code b} from the nodes' capacities and {@code usedCpu}/{@code usedMem}. */
    void refresh(int b, ClusterSnapshot s, int[] usedCpu, long[] usedMem) {
        long freeCpu = Long.MIN_VALUE;
        long freeMem = Long.MIN_VALUE;
        double high = Double.NEGATIVE_INFINITY;
        double low = Double.POSITIVE_INFINITY;
        double highCpu = 0;
        double highMem = 0;
        double lowCpu = Double.POSITIVE_INFINITY;
        double lowMem = Double.POSITIVE_INFINITY;
        for (int p = start[b]; p < end[b]; p++) {
            freeCpu = Math.max(freeCpu, (long) s.capCpu[p] - usedCpu[p]);
            freeMem = Math.max(freeMem, s.capMem[p] - usedMem[p]);
            double fill = fill(usedCpu[p], s.inverseCpu[p], usedMem[p], s.inverseMem[p]);
            high = Math.max(high, fill);
            low = Math.min(low, fill);
            highCpu = Math.max(highCpu, s.inverseCpu[p]);
            highMem = Math.max(highMem, s.inverseMem[p]);
            lowCpu = Math.min(lowCpu, s.inverseCpu[p]);
            lowMem = Math.min(lowMem, s.inverseMem[p]);
        }
        maxFreeCpu[b] = freeCpu;
        maxFreeMem[b] = freeMem;
        maxFill[b] = high;
        minFill[b] = low;
        maxInverseCpu[b] = highCpu;
        maxInverseMem[b] = highMem;
        minInverseCpu[b] = lowCpu;
        minInverseMem[b] = lowMem;
    }

    /** The summed fractions of a node's capacity in use. */
    static double fill(long usedCpu, double inverseCpu, long usedMem, double inverseMem) {
        return usedCpu * inverseCpu + usedMem * inverseMem;
    }

    /** Whether no node of block {@code b} can take the request. */
    boolean tooSmall(int b, long cpus, long memoryMb) {
        return maxFreeCpu[b] < cpus || maxFreeMem[b] < memoryMb;
    }

    /** Whether no node of block {@code b} can score at least {@code bestScore} for the request. */
    boolean cannotReach(int b, boolean binpack, long cpus, long memoryMb, double bestScore) {
        double bound = binpack
                ? 0.5 * (maxFill[b] + cpus * maxInverseCpu[b] + memoryMb * maxInverseMem[b])
                : 1.0 - 0.5 * (minFill[b] + cpus * minInverseCpu[b] + memoryMb * minInverseMem[b]);
        return bound < bestScore - SLACK;
    }
}
