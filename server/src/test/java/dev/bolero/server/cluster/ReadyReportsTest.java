package dev.bolero.server.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.bolero.api.ApiJson;
import dev.bolero.api.wire.Capacity;
import dev.bolero.api.wire.ClusterMachine;
import dev.bolero.api.wire.CreateClusterMachine;
import dev.bolero.api.wire.FleetSpec;
import dev.bolero.api.wire.FleetStrategy;
import dev.bolero.api.wire.Heartbeat;
import dev.bolero.api.wire.HeartbeatResponse;
import dev.bolero.api.wire.JoinRequest;
import dev.bolero.api.wire.MachineReport;
import dev.bolero.api.wire.NamespaceSpec;
import dev.bolero.core.Driver;
import dev.bolero.core.MachineState;
import dev.bolero.server.PostgresCluster;
import dev.bolero.server.secrets.MasterKeys;
import dev.bolero.server.secrets.Secrets;
import dev.bolero.server.store.Page;
import dev.bolero.server.store.ServerStore;
import dev.bolero.server.store.StoreException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Ready nodes' reports recorded together ({@link ReadyReports}), on real stores: reports sent at once each get their
 * own answer and every changed state is written; a report PostgreSQL refuses (a NUL in a text) fails alone, the
 * others of its tick are recorded.
 */
class ReadyReportsTest {
    private static final int NODES = 8;

    @TempDir
    Path dir;

    @Test
    void reportsSentAtOnceAreEachRecordedOnSqlite() throws Exception {
        try (var store = ServerStore.sqlite(dir.resolve("server.db"))) {
            reportAtOnce(store, false);
        }
    }

    @Test
    void aReportPostgresRefusesFailsAloneAndTheOthersOfItsTickAreRecorded() throws Exception {
        String why = PostgresCluster.unavailable();
        assumeTrue(why == null, why);
        try (var postgres = new PostgresCluster(); var store = ServerStore.postgres(postgres.newDatabase())) {
            reportAtOnce(store, true);
        }
    }

    /** Each node reports its machine running at once, the first with a NUL in its error, which PostgreSQL refuses. */
    private static void reportAtOnce(ServerStore store, boolean refused) throws Exception {
        var clock = new FakeClock();
        try (var cluster = Cluster.start(store, clock, new NodeRegistry.Timing(Duration.ofSeconds(5),
                Duration.ofSeconds(30), Duration.ofSeconds(20)), Duration.ofHours(1), Duration.ofSeconds(2),
                new Secrets(store, clock, MasterKeys.of(MasterKeys.generate(), List.of())), Optional.empty())) {
            for (int i = 0; i < NODES; i++) {
                cluster.nodes().join(new JoinRequest("node-" + i, Map.of(), List.of(Driver.QEMU),
                        new Capacity(1, 1024L)));
            }
            cluster.plane().createNamespace(new NamespaceSpec("alpha"));
            cluster.plane().createFleet("alpha", new FleetSpec("web", FleetStrategy.SPREAD, null, Map.of()));
            var machines = new ArrayList<ClusterMachine>();
            for (int i = 0; i < NODES; i++) {
                machines.add(cluster.plane().createMachine("alpha", "web", ApiJson.mapper().readValue(
                        "{\"name\":\"m-" + i + "\",\"config\":{\"image\":\"busybox\",\"guest\":{\"cpus\":1,"
                                + "\"memory_mb\":256}}}", CreateClusterMachine.class), Optional.empty()));
            }

            var gate = new CountDownLatch(1);
            var answers = new ArrayList<Future<HeartbeatResponse>>();
            try (var pool = Executors.newVirtualThreadPerTaskExecutor()) {
                for (int i = 0; i <= NODES; i++) {
                    // The last one is of a node that never joined: it is answered alone, as not found.
                    String nodeId = i < NODES ? machines.get(i).nodeId() : "no-such-node";
                    var report = i < NODES ? List.of(new MachineReport(machines.get(i).id(), 1, MachineState.RUNNING,
                            null, null, i == 0 ? "bad\0text" : null, null, List.of())) : List.<MachineReport>of();
                    answers.add(pool.submit(() -> {
                        gate.await();
                        return cluster.nodes().heartbeat(nodeId, new Heartbeat(new Capacity(1, 1024L),
                                List.of(Driver.QEMU), report));
                    }));
                }
                gate.countDown();
            }

            for (int i = 0; i < NODES; i++) {
                if (i == 0 && refused) {
                    var failure = catchFailure(answers.get(i));
                    assertThat(failure).isInstanceOf(StoreException.class)
                            .hasMessageStartingWith("heartbeat of node " + machines.get(i).nodeId() + ": ");
                } else {
                    assertThat(answers.get(i).get().index()).as("node %d's answer", i).isPositive();
                }
            }
            assertThat(catchFailure(answers.get(NODES))).hasMessageContaining("no such node");
            var states = new java.util.HashMap<String, MachineState>();
            cluster.plane().machines("alpha", Optional.empty(), java.util.Set.of(), Map.of(),
                    Page.first(Page.MAX_LIMIT)).forEach(m -> states.put(m.id(), m.state()));
            for (int i = 0; i < NODES; i++) {
                if (i == 0 && refused) {
                    assertThat(states.get(machines.get(i).id())).as("machine %d", i).isNotEqualTo(MachineState.RUNNING);
                } else {
                    assertThat(states.get(machines.get(i).id())).as("machine %d", i).isEqualTo(MachineState.RUNNING);
                }
            }
        }
    }

    private static Throwable catchFailure(Future<?> answer) throws InterruptedException {
        try {
            answer.get();
            throw new AssertionError("no failure");
        } catch (ExecutionException e) {
            return e.getCause();
        }
    }
}
