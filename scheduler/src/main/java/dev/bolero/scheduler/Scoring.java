package dev.bolero.scheduler;

/**
 * Ranking arithmetic shared by every code path that ranks nodes, so that all of them order nodes identically: a
 * score in [0, 1] from the node's fill after placement, then a seeded hash of the node id, then the id itself.
 */
final class Scoring {

    private Scoring() {}

    /** {@code 1/capacity}, precomputed per node so ranking multiplies instead of dividing. */
    static double inverse(long capacity) {
        return capacity == 0 ? 0.0 : 1.0 / capacity;
    }

    /**
     * The score of a node whose use after placement would be {@code cpuAfter}/{@code memAfter}: the mean fill of both
     * dimensions for bin-packing, one minus it for spreading.
     */
    static double score(boolean binpack, long cpuAfter, double inverseCpu, long memAfter, double inverseMem) {
        double fill = (cpuAfter * inverseCpu + memAfter * inverseMem) * 0.5;
        return binpack ? fill : 1.0 - fill;
    }

    /** A stable 64-bit hash of a node id (FNV-1a over its chars). */
    static long idHash(String id) {
        long hash = 0xcbf29ce484222325L;
        for (int i = 0; i < id.length(); i++) {
            hash = (hash ^ id.charAt(i)) * 0x100000001b3L;
        }
        return hash;
    }

    /** The tie-break key of a node for {@code seed}: lower wins (SplitMix64 finaliser). */
    static long tieKey(long seed, long idHash) {
        long z = seed ^ idHash;
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }

    /** Whether a candidate ranks before the current best: higher score, then lower tie key, then lower id. */
    static boolean before(double score, long key, String id, double bestScore, long bestKey, String bestId) {
        if (score != bestScore) {
            return score > bestScore;
        }
        if (key != bestKey) {
            return Long.compareUnsigned(key, bestKey) < 0;
        }
        return id.compareTo(bestId) < 0;
    }
}
