package dev.bolero.gateway;

/**
 * The balancing rule, as a pure function: among the machines that may take a request, the one with the fewest
 * requests in flight, ties broken by scanning from a rotating start so equal machines share the load.
 */
final class LeastOutstanding {
    /** What {@link #pick} reports when no machine may take the request. */
    static final int NONE = -1;

    private LeastOutstanding() {}

    /**
     * @param outstanding requests in flight per machine
     * @param eligible whether each machine may take requests at all (healthy, not ejected, not excluded)
     * @param hardLimit a machine with this many requests in flight takes no more
     * @param start where the scan starts (any int; taken modulo the number of machines)
     * @return the index of the chosen machine, or {@link #NONE}
     */
    static int pick(int[] outstanding, boolean[] eligible, int hardLimit, int start) {
        int n = outstanding.length;
        int best = NONE;
        int bestLoad = Integer.MAX_VALUE;
        int from = n == 0 ? 0 : Math.floorMod(start, n);
        for (int k = 0; k < n; k++) {
            int i = from + k < n ? from + k : from + k - n;
            int load = outstanding[i];
            if (eligible[i] && load < hardLimit && load < bestLoad) {
                best = i;
                bestLoad = load;
            }
        }
        return best;
    }
}
