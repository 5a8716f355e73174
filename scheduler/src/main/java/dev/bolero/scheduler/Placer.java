package dev.bolero.scheduler;

import java.time.Instant;

/**
 * Places requests one after another against one snapshot, remembering what it placed in an {@link Occupancy}: the
 * snapshot's arrays are read directly until the first placement is remembered; then the allocation arrays are copied
 * once.
 */
final class Placer {

    private final ClusterSnapshot snapshot;
    private final Instant now;
    private final long seed;
    private final Occupancy occupancy;

    private int bestPosition;
    private double bestScore;
    private long bestKey;

    Placer(ClusterSnapshot snapshot, Instant now, long seed) {
        this.snapshot = snapshot;
        this.now = now;
        this.seed = seed;
        this.occupancy = new Occupancy(snapshot);
    }

    /** Decides where {@code request} goes; when {@code remember}, later requests see the placement. */
    PlacementDecision place(PlacementRequest request, boolean remember) {
        if (request.node().isPresent()) {
            return placePinned(request, remember);
        }
        var classes = snapshot.classes;
        boolean[] classFits = new boolean[classes.length];
        for (int c = 0; c < classes.length; c++) {
            classFits[c] = Feasibility.constraints(classes[c].labels(), classes[c].drivers(), request)
                    == Feasibility.Verdict.FITS;
        }
        FleetCounts fleetCounts = request.fleet().map(occupancy::fleetCounts).orElse(FleetCounts.EMPTY);
        long[] occupied = fleetCounts.size() == 0 ? null : fleetCounts.bitset(snapshot.ids.length);
        long[] taken = request.ports().isEmpty() ? null : occupancy.ports().taken(request.ports());

        bestPosition = -1;
        boolean binpack = request.strategy() == Strategy.BINPACK;
        for (int c = 0; c < classes.length; c++) {
            if (classFits[c]) {
                scan(classes[c], request.resources(), binpack, occupied, taken);
            }
        }
        if (bestPosition < 0 && occupied != null) {
            leastOccupied(fleetCounts, classFits, request.resources(), binpack, taken);
        }
        if (bestPosition < 0) {
            return new PlacementDecision.Refused(Refusals.explain(snapshot, occupancy.usedCpu(), occupancy.usedMem(),
                    taken, request, now));
        }
        var placed = new PlacementDecision.Placed(snapshot.ids[bestPosition], bestScore);
        if (remember) {
            occupancy.add(bestPosition, request);
        }
        return placed;
    }

    /** Places a request pinned to one node: that node if it passes every filter, else a refusal. */
    private PlacementDecision placePinned(PlacementRequest request, boolean remember) {
        int p = snapshot.position(request.node().orElseThrow());
        long[] taken = p < 0 || request.ports().isEmpty() ? null : occupancy.ports().taken(request.ports());
        int[] usedCpu = occupancy.usedCpu();
        long[] usedMem = occupancy.usedMem();
        if (p < 0 || Feasibility.check(snapshot.views[p], request, now, usedCpu[p], usedMem[p], marked(taken, p))
                != Feasibility.Verdict.FITS) {
            return new PlacementDecision.Refused(Refusals.explain(snapshot, usedCpu, usedMem, taken, request, now));
        }
        double score = Scoring.score(request.strategy() == Strategy.BINPACK,
                usedCpu[p] + (long) request.resources().cpus(), snapshot.inverseCpu[p],
                usedMem[p] + request.resources().memoryMb(), snapshot.inverseMem[p]);
        if (remember) {
            occupancy.add(p, request);
        }
        return new PlacementDecision.Placed(snapshot.ids[p], score);
    }

    /**
     * Ranks the ready nodes of one class that fit, skipping nodes marked in {@code occupied} (the fleet's) or in
     * {@code taken} (a port in use); either may be null for none.
     */
    private void scan(ClusterSnapshot.NodeClass nodeClass, Resources demand, boolean binpack, long[] occupied,
                      long[] taken) {
        long wantCpu = demand.cpus();
        long wantMem = demand.memoryMb();
        boolean checkHeartbeat = !now.isBefore(nodeClass.earliestReadyExpiry());
        Blocks blocks = occupancy.blocks();
        // Fullest blocks come first: bin-packing meets its best early from the front, spreading from the back.
        int first = nodeClass.firstBlock();
        int last = nodeClass.endBlock() - 1;
        for (int i = 0; i <= last - first; i++) {
            int b = binpack ? first + i : last - i;
            if (blocks.tooSmall(b, wantCpu, wantMem)
                    || (bestPosition >= 0 && blocks.cannotReach(b, binpack, wantCpu, wantMem, bestScore))) {
                continue;
            }
            scanBlock(blocks.start[b], blocks.end[b], wantCpu, wantMem, binpack, occupied, taken, checkHeartbeat);
        }
    }

    private void scanBlock(int start, int end, long wantCpu, long wantMem, boolean binpack, long[] occupied,
                           long[] taken, boolean checkHeartbeat) {
        int[] capCpu = snapshot.capCpu;
        long[] capMem = snapshot.capMem;
        double[] inverseCpu = snapshot.inverseCpu;
        double[] inverseMem = snapshot.inverseMem;
        int[] cpu = occupancy.usedCpu();
        long[] mem = occupancy.usedMem();
        for (int p = start; p < end; p++) {
            long cpuAfter = cpu[p] + wantCpu;
            long memAfter = mem[p] + wantMem;
            if (cpuAfter > capCpu[p] || memAfter > capMem[p]) {
                continue;
            }
            double score = Scoring.score(binpack, cpuAfter, inverseCpu[p], memAfter, inverseMem[p]);
            if (bestPosition >= 0 && score < bestScore) {
                continue;
            }
            if (marked(occupied, p) || marked(taken, p)) {
                continue;
            }
            if (checkHeartbeat && !now.isBefore(snapshot.views[p].heartbeatExpires())) {
                continue;
            }
            consider(p, score);
        }
    }

    private void consider(int p, double score) {
        long key = Scoring.tieKey(seed, snapshot.idHash[p]);
        if (bestPosition < 0
                || Scoring.before(score, key, snapshot.ids[p], bestScore, bestKey, snapshot.ids[bestPosition])) {
            bestPosition = p;
            bestScore = score;
            bestKey = key;
        }
    }

    /** When every node free of the fleet is ruled out: ranks the fleet's nodes by fewest machines, then score. */
    private void leastOccupied(FleetCounts fleetCounts, boolean[] classFits, Resources demand, boolean binpack,
                               long[] taken) {
        int[] usedCpu = occupancy.usedCpu();
        long[] usedMem = occupancy.usedMem();
        int bestCount = Integer.MAX_VALUE;
        for (int i = 0; i < fleetCounts.size(); i++) {
            int p = fleetCounts.position(i);
            int count = fleetCounts.count(i);
            var nodeClass = snapshot.classes[snapshot.classOf[p]];
            if (count > bestCount || !classFits[snapshot.classOf[p]] || p >= nodeClass.readyEnd()
                    || marked(taken, p)
                    || !now.isBefore(snapshot.views[p].heartbeatExpires())
                    || !Feasibility.fits(usedCpu[p], snapshot.capCpu[p], usedMem[p], snapshot.capMem[p], demand)) {
                continue;
            }
            double score = Scoring.score(binpack, usedCpu[p] + (long) demand.cpus(), snapshot.inverseCpu[p],
                    usedMem[p] + demand.memoryMb(), snapshot.inverseMem[p]);
            if (count < bestCount) {
                bestCount = count;
                bestPosition = -1;
            }
            consider(p, score);
        }
    }

    /** Whether position {@code p} is set in {@code bits}; a null bitset marks nothing. */
    static boolean marked(long[] bits, int p) {
        return bits != null && (bits[p >>> 6] & (1L << p)) != 0;
    }
}
