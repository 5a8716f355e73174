package dev.bolero.bench;

import dev.bolero.scheduler.ClusterSnapshot;
import dev.bolero.scheduler.Fixtures;
import dev.bolero.scheduler.PlacementDecision;
import dev.bolero.scheduler.PlacementRequest;
import dev.bolero.scheduler.ReferenceScheduler;
import dev.bolero.scheduler.Scheduler;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Threads;

/**
 * Placements per second, single-threaded, on a snapshot of 10,000 nodes running 100,000 machines. Each operation is
 * one placement decision; the batch benchmarks place {@value #BATCH} requests per call, each seeing the ones before.
 * {@code reference} is the obvious first scheduler (check every node record, score, sort, take the first), measured in
 * the same run as the baseline; it ranks identically, which the scheduler's property tests check.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Threads(1)
@Fork(value = 1, jvmArgsAppend = {"-Xms2g", "-Xmx2g"})
public class SchedulerBenchmark {

    static final int BATCH = 200;
    private static final int NODES = 10_000;
    private static final int MACHINES = 100_000;
    private static final Instant NOW = Fixtures.NOW;

    private ClusterSnapshot snapshot;
    private List<List<PlacementRequest>> batches;
    private List<PlacementRequest> requests;
    private int next;
    private long seed;

    @Setup(Level.Trial)
    public void setUp() {
        snapshot = Fixtures.largeCluster(NODES, MACHINES, 42);
        requests = Fixtures.mixedRequests(64 * BATCH, MACHINES / 10, 7);
        batches = new ArrayList<>();
        for (int i = 0; i < requests.size(); i += BATCH) {
            batches.add(requests.subList(i, i + BATCH));
        }
    }

    private List<PlacementRequest> nextBatch() {
        next = (next + 1) % batches.size();
        return batches.get(next);
    }

    /** The scheduler, placing a batch against one snapshot. */
    @Benchmark
    @OperationsPerInvocation(BATCH)
    public List<PlacementDecision> schedulerPlanAll() {
        return Scheduler.planAll(snapshot, nextBatch(), NOW, seed++);
    }

    /** The scheduler, one request per call (no batch state to copy). */
    @Benchmark
    public PlacementDecision schedulerPlan() {
        next = (next + 1) % requests.size();
        return Scheduler.plan(snapshot, requests.get(next), NOW, seed++);
    }

    /** The baseline: every node record checked, scored and sorted per placement. */
    @Benchmark
    @OperationsPerInvocation(BATCH)
    public List<PlacementDecision> referencePlanAll() {
        return ReferenceScheduler.planAll(snapshot, nextBatch(), NOW, seed++);
    }
}
