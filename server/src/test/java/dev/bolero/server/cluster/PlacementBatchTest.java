package dev.bolero.server.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bolero.api.ApiException;
import dev.bolero.api.ApiJson;
import dev.bolero.api.ErrorCode;
import dev.bolero.api.wire.Assignments;
import dev.bolero.api.wire.Capacity;
import dev.bolero.api.wire.ClusterMachine;
import dev.bolero.api.wire.CreateClusterMachine;
import dev.bolero.api.wire.FleetSpec;
import dev.bolero.api.wire.FleetStrategy;
import dev.bolero.api.wire.Heartbeat;
import dev.bolero.api.wire.JoinRequest;
import dev.bolero.api.wire.NamespaceSpec;
import dev.bolero.api.wire.NodeInfo;
import dev.bolero.api.wire.NodeVolume;
import dev.bolero.api.wire.Quota;
import dev.bolero.api.wire.VolumeSpec;
import dev.bolero.core.Driver;
import dev.bolero.server.secrets.MasterKeys;
import dev.bolero.server.secrets.Secrets;
import dev.bolero.server.store.Page;
import dev.bolero.server.store.ServerStore;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Group-committed placement on a real SQLite store: many concurrent creates are coalesced into batches, and every
 * caller gets its own answer; none is lost, and no node gets more than its capacity.
 */
class PlacementBatchTest {
    private static final int NODES = 5;
    private static final int CPUS = 4;

    @TempDir
    Path dir;
    private final FakeClock clock = new FakeClock();
    private ServerStore store;
    private Cluster cluster;

    @BeforeEach
    void start() {
        store = ServerStore.sqlite(dir.resolve("server.db"));
        cluster = Cluster.start(store, clock, new NodeRegistry.Timing(Duration.ofSeconds(5),
                Duration.ofSeconds(30), Duration.ofSeconds(20)), Duration.ofHours(1), Duration.ofSeconds(2),
                new Secrets(store, clock, MasterKeys.of(MasterKeys.generate(), List.of())), Optional.empty());
        for (int i = 0; i < NODES; i++) {
            cluster.nodes().join(new JoinRequest("node-" + i, Map.of(), List.of(Driver.QEMU),
                    new Capacity(CPUS, CPUS * 1024L)));
        }
        cluster.plane().createNamespace(new NamespaceSpec("alpha"));
        cluster.plane().createFleet("alpha", new FleetSpec("web", FleetStrategy.SPREAD, null, Map.of()));
    }

    @AfterEach
    void stop() {
        cluster.close();
        store.close();
    }

    @Test
    void concurrentCreatesThatFitAreAllPlacedAndStored() throws Exception {
        int creates = NODES * CPUS;
        var outcomes = concurrently(creates, i -> create("m-" + i));

        var placed = outcomes.stream().filter(o -> o instanceof ClusterMachine).map(o -> (ClusterMachine) o).toList();
        assertThat(placed).hasSize(creates);
        assertThat(placed).allSatisfy(m -> assertThat(m.nodeId()).isNotNull());
        assertThat(cluster.plane().machines("alpha", Optional.empty(), java.util.Set.of(), java.util.Map.of(),
                Page.first(Page.MAX_LIMIT)))
                .extracting(ClusterMachine::id).containsExactlyInAnyOrderElementsOf(
                        placed.stream().map(ClusterMachine::id).toList());
        assertThat(placed.stream().collect(Collectors.groupingBy(ClusterMachine::nodeId, Collectors.counting())))
                .hasSize(NODES).allSatisfy((node, count) -> assertThat(count).isEqualTo((long) CPUS));
        // The answer is the stored row.
        for (ClusterMachine m : placed) assertThat(cluster.plane().machine("alpha", m.id())).isEqualTo(m);
    }

    @Test
    void concurrentCreatesBeyondCapacityAreRefusedAndNeverOverCommit() throws Exception {
        int creates = 3 * NODES * CPUS;
        var outcomes = concurrently(creates, i -> create("m-" + i));

        assertThat(outcomes.stream().filter(o -> o instanceof ClusterMachine)).hasSize(NODES * CPUS);
        assertThat(outcomes.stream().filter(o -> o instanceof ApiException e && e.getMessage().contains("create machine"))
                .count()).isEqualTo(creates - NODES * CPUS);
        for (NodeInfo node : cluster.nodes().nodes(Page.first(Page.MAX_LIMIT))) {
            assertThat(node.allocated().cpus()).as("cpus allocated on %s", node.name()).isEqualTo(CPUS);
        }
    }

    @Test
    void aCreateAfterItsFleetChangedIsMadeFromTheFleetAsItIsThen() {
        assertThat(create("before")).isInstanceOf(ClusterMachine.class);
        // The fleet as the create read it is kept; the next create in it is made from that unless it changed.
        cluster.plane().updateFleet("alpha", "web", ApiJson.mapper().readValue(
                "{\"name\":\"web\",\"strategy\":\"spread\",\"config\":{\"env\":{\"RELEASE\":\"2\"}}}",
                FleetSpec.class));
        var after = (ClusterMachine) create("after");
        assertThat(after.config().env()).containsEntry("RELEASE", "2");
        assertThat(after.configVersion()).isEqualTo(cluster.plane().fleet("alpha", "web").configVersion());

        cluster.plane().delete("alpha", after.id());
        assertThat(create("again")).as("the fleet as kept after the fresh read").isInstanceOf(ClusterMachine.class);
    }

    @Test
    void aQuotaKeptFromAnEarlierCreateRefusesOnlyOnceAFreshReadConfirmsIt() {
        cluster.plane().setQuota("alpha", new Quota(1, null, null, null, null));
        assertThat(create("first")).isInstanceOf(ClusterMachine.class);
        assertThat(create("second")).isInstanceOfSatisfying(ApiException.class,
                e -> assertThat(e.code()).isEqualTo(ErrorCode.QUOTA_EXCEEDED));
        cluster.plane().setQuota("alpha", new Quota(2, null, null, null, null));
        assertThat(create("second")).as("the raised quota").isInstanceOf(ClusterMachine.class);
        assertThat(create("third")).isInstanceOfSatisfying(ApiException.class,
                e -> assertThat(e.code()).isEqualTo(ErrorCode.QUOTA_EXCEEDED));
    }

    @Test
    void concurrentCreatesOfOneNameMakeOneMachine() throws Exception {
        var outcomes = concurrently(12, i -> create("same"));

        assertThat(outcomes.stream().filter(o -> o instanceof ClusterMachine)).hasSize(1);
        assertThat(outcomes.stream().filter(o -> o instanceof ApiException e
                && e.getMessage().endsWith("a machine of that name exists"))).hasSize(11);
        assertThat(cluster.plane().machines("alpha", Optional.empty(), java.util.Set.of(), java.util.Map.of(),
                Page.first(Page.MAX_LIMIT))).hasSize(1);
    }

    @Test
    void machinesOfALostNodeWaitUntilANodeHasRoomAndAreThenPlacedByTheReconciler() throws Exception {
        var outcomes = concurrently(NODES * CPUS, i -> create("m-" + i));
        assertThat(outcomes).allMatch(o -> o instanceof ClusterMachine);
        var nodes = cluster.nodes().nodes(Page.first(Page.MAX_LIMIT));
        String lost = nodes.getFirst().id();
        clock.advance(Duration.ofSeconds(31));
        for (NodeInfo node : nodes.subList(1, NODES)) {
            cluster.nodes().heartbeat(node.id(), new Heartbeat(new Capacity(CPUS, CPUS * 1024L),
                    List.of(Driver.QEMU), List.of()));
        }

        cluster.loops().tick();

        var waiting = machines().stream().filter(m -> m.nodeId() == null).toList();
        assertThat(waiting).hasSize(CPUS).allSatisfy(m ->
                assertThat(m.error()).startsWith("awaiting a node: "));
        var gone = machines().stream().filter(m -> m.nodeId() != null).findFirst().orElseThrow();
        cluster.plane().delete("alpha", gone.id());
        store.update("confirm the delete", tx -> {
            tx.machines().purge(gone.id());
            return null;
        });

        cluster.loops().tick();

        var placed = machines().stream().filter(m -> waiting.stream().anyMatch(w -> w.id().equals(m.id()))
                && m.nodeId() != null).toList();
        assertThat(placed).singleElement().satisfies(m -> assertThat(m.nodeId()).isEqualTo(gone.nodeId()));
        for (NodeInfo node : cluster.nodes().nodes(Page.first(Page.MAX_LIMIT))) {
            assertThat(node.allocated().cpus()).as("cpus on %s", node.name())
                    .isEqualTo(node.id().equals(lost) ? 0 : CPUS);
        }
    }

    @Test
    void aCapacityLoweredByAHeartbeatRefusesTheNextCreateAlthoughThePlacementsKeptTheirSnapshot() {
        assertThat(create("first")).isInstanceOf(ClusterMachine.class);
        // Reports change no state index: the kept snapshot still sees the old capacities.
        for (NodeInfo node : cluster.nodes().nodes(Page.first(Page.MAX_LIMIT))) {
            cluster.nodes().heartbeat(node.id(), new Heartbeat(new Capacity(1, 1024L), List.of(Driver.QEMU),
                    List.of()));
        }

        var outcomes = new ArrayList<Object>();
        for (int i = 0; i < NODES; i++) outcomes.add(create("m-" + i));

        assertThat(outcomes.stream().filter(o -> o instanceof ClusterMachine)).hasSize(NODES - 1);
        assertThat(outcomes.stream().filter(o -> o instanceof ApiException e && e.getMessage().contains("create machine")))
                .hasSize(1);
        for (NodeInfo node : cluster.nodes().nodes(Page.first(Page.MAX_LIMIT))) {
            assertThat(node.allocated().cpus()).as("cpus allocated on %s", node.name()).isEqualTo(1);
        }
    }

    @Test
    void eachPollAnswerListsTheMachinesItsNodeHoldsAfterCreatesStopsAndDeletes() throws Exception {
        var nodes = cluster.nodes().nodes(Page.first(Page.MAX_LIMIT));
        for (NodeInfo node : nodes) cluster.nodes().assignments(node.id(), 0, Duration.ZERO); // each node's set kept
        var made = new ArrayList<ClusterMachine>();
        for (int i = 0; i < 2 * NODES; i++) {
            made.add((ClusterMachine) create("m-" + i));
            assertAnswersMatchTheStore(nodes);
        }
        cluster.plane().stop("alpha", made.get(0).id(), null);
        assertAnswersMatchTheStore(nodes);
        cluster.plane().delete("alpha", made.get(1).id());
        made.add((ClusterMachine) create("after"));
        assertAnswersMatchTheStore(nodes);
    }

    @Test
    void aPollAnswerListsTheVolumeANewMachineAttachedToItsNodeThoughItsSetWasKeptWithoutVolumes() {
        var nodes = cluster.nodes().nodes(Page.first(Page.MAX_LIMIT));
        for (NodeInfo node : nodes) {
            assertThat(answer(node).volumes()).as("node %s, each set kept without volumes", node.name()).isEmpty();
        }
        cluster.volumes().create("alpha", new VolumeSpec("data", 1, null, null));

        var made = cluster.plane().createMachine("alpha", "web", ApiJson.mapper().readValue("{\"name\":\"db\","
                + "\"start\":true,\"config\":{\"image\":\"busybox\",\"guest\":{\"cpus\":1,\"memory_mb\":256},"
                + "\"mounts\":[{\"volume\":\"data\",\"path\":\"/data\"}]}}", CreateClusterMachine.class), Optional.empty());

        for (NodeInfo node : nodes) {
            assertThat(answer(node).volumes()).as("node %s", node.name()).extracting(NodeVolume::name)
                    .containsExactlyElementsOf(node.id().equals(made.nodeId()) ? List.of("data") : List.of());
        }
    }

    private Assignments answer(NodeInfo node) {
        try {
            return cluster.nodes().assignments(node.id(), 0, Duration.ZERO);
        } catch (InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Each node's poll answer lists its live machines as the store has them: ids, generations, desired states. */
    private void assertAnswersMatchTheStore(List<NodeInfo> nodes) throws InterruptedException {
        var stored = machines();
        for (NodeInfo node : nodes) {
            var answer = cluster.nodes().assignments(node.id(), 0, Duration.ZERO);
            var expected = stored.stream().filter(m -> node.id().equals(m.nodeId()))
                    .map(m -> m.id() + "/" + m.desiredState()).sorted().toList();
            assertThat(answer.machines()).as("the answer to node %s", node.name())
                    .extracting(a -> a.id() + "/" + a.desiredState()).containsExactlyElementsOf(expected);
            var generations = store.read("read generations", tx -> tx.machines().on(node.id())).stream()
                    .filter(m -> !m.deleted()).map(m -> m.id() + "@" + m.generation()).toList();
            assertThat(answer.machines()).extracting(a -> a.id() + "@" + a.generation())
                    .containsExactlyElementsOf(generations);
        }
    }

    private List<ClusterMachine> machines() {
        return cluster.plane().machines("alpha", Optional.empty(), java.util.Set.of(), java.util.Map.of(),
                Page.first(Page.MAX_LIMIT));
    }

    private Object create(String name) {
        try {
            return cluster.plane().createMachine("alpha", "web", body(name, true), Optional.empty());
        } catch (ApiException e) {
            return e;
        }
    }

    private static CreateClusterMachine body(String name, boolean start) {
        return ApiJson.mapper().readValue("{\"name\":\"" + name + "\",\"start\":" + start
                + ",\"config\":{\"image\":\"busybox\",\"guest\":{\"cpus\":1,\"memory_mb\":256}}}",
                CreateClusterMachine.class);
    }

    private interface Attempt {
        Object run(int i);
    }

    /** Runs {@code n} attempts at once, each on its own thread released together; their outcomes in order. */
    private static List<Object> concurrently(int n, Attempt attempt) throws Exception {
        var gate = new java.util.concurrent.CountDownLatch(1);
        try (var pool = Executors.newVirtualThreadPerTaskExecutor()) {
            var futures = new ArrayList<Future<Object>>();
            for (int i = 0; i < n; i++) {
                int k = i;
                Callable<Object> task = () -> {
                    gate.await();
                    return attempt.run(k);
                };
                futures.add(pool.submit(task));
            }
            gate.countDown();
            var out = new ArrayList<Object>();
            for (var f : futures) out.add(f.get());
            return out;
        }
    }
}
