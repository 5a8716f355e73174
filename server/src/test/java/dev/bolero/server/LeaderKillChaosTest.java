package dev.bolero.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Chaos on the control plane: three server replicas (each its own JVM) on one PostgreSQL, three live nodes, and
 * clients creating and deleting machines through any live replica, while the leading replica is killed with SIGKILL
 * again and again (and a replica restarted in its place each time). Afterwards {@link Invariants} hold: every
 * acknowledged create is there exactly once, every acknowledged delete is gone, no machine runs on two nodes.
 */
class LeaderKillChaosTest {
    private static final int REPLICAS = 3;
    private static final int KILLS = 4;
    private static final int CLIENTS = 3;
    private static final int AGENTS = 3;
    /** Machines a client keeps before it deletes its oldest. */
    private static final int KEPT = 3;
    private static final String MACHINES = "/v1/namespaces/chaos/fleets/load/machines";

    @TempDir
    Path dir;

    @Test
    void everyAcknowledgedCreateAndDeleteSurvivesRepeatedLeaderKills() throws Exception {
        String why = PostgresCluster.unavailable();
        if (why != null) System.out.println("skipping PostgreSQL tests: " + why);
        assumeTrue(why == null, why);
        try (var postgres = new PostgresCluster()) {
            String db = postgres.newDatabase();
            var ports = new ArrayList<Integer>();
            for (int i = 0; i < REPLICAS; i++) ports.add(PostgresCluster.freePort());
            var replicas = new Process[REPLICAS];
            var agents = new ArrayList<FakeAgent>();
            var load = new Load();
            Thread sampler = null;
            try {
                for (int i = 0; i < REPLICAS; i++) {
                    replicas[i] = ReplicaMain.start(dir.resolve("r" + i), db, ports.get(i));
                }
                for (Process replica : replicas) ReplicaMain.port(replica);
                var http = new Http(ports);
                assertThat(http.post("/v1/namespaces", ClusterSuite.ADMIN, Map.of("name", "chaos")).status())
                        .isEqualTo(201);
                assertThat(http.post("/v1/namespaces/chaos/fleets", ClusterSuite.ADMIN, Map.of("name", "load"))
                        .status()).isEqualTo(201);
                for (int i = 0; i < AGENTS; i++) {
                    agents.add(new FakeAgent(new Http(ports), ClusterSuite.JOIN, "n" + i, Map.of(), 8, 16384).live());
                }
                for (int i = 0; i < CLIENTS; i++) load.start(i, new Http(ports));
                var twice = new CopyOnWriteArrayList<String>();
                var samples = new AtomicInteger();
                sampler = Thread.ofVirtual().start(() -> {
                    try {
                        while (true) {
                            twice.addAll(Invariants.runningTwice(agents));
                            samples.incrementAndGet();
                            Thread.sleep(250);
                        }
                    } catch (InterruptedException e) {
                        // the load is over
                    }
                });

                int kills = 0;
                for (int k = 0; k < KILLS; k++) {
                    Thread.sleep(3000);
                    int leader = awaitLeader(ports);
                    replicas[leader].destroyForcibly().waitFor(30, TimeUnit.SECONDS);
                    kills++;
                    Thread.sleep(2000);
                    replicas[leader] = ReplicaMain.start(dir.resolve("r" + leader), db, ports.get(leader));
                    ReplicaMain.port(replicas[leader]);
                }
                Thread.sleep(3000);
                load.stop();
                sampler.interrupt();
                sampler.join();
                assertThat(load.failures).as("the load's unexpected failures").isEmpty();
                assertThat(twice).as("machines reported running by two nodes during the kills").isEmpty();

                var acknowledged = load.acknowledged();
                int running = 0;
                int unansweredMade = 0;
                try (Connection store = connect(db)) {
                    await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(500)).untilAsserted(() ->
                            assertThat(Invariants.check(store, acknowledged, agents))
                                    .as("violations of the invariants").isEmpty());
                    notBlind(store, acknowledged, agents);
                    for (FakeAgent agent : agents) running += agent.reportedRunning().size();
                    for (String name : load.unanswered) {
                        try (var s = store.prepareStatement("SELECT count(*) FROM machines WHERE name = ?")) {
                            s.setString(1, name);
                            try (var rs = s.executeQuery()) {
                                rs.next();
                                unansweredMade += rs.getInt(1);
                            }
                        }
                    }
                }
                System.out.printf("leader-kill chaos: %d SIGKILLs of the leader; %d creates acknowledged, %d deletes"
                                + " acknowledged, %d creates with no answer (%d of them made), %d refused; %d machines"
                                + " running at the end; %d samples of the nodes' reports during the kills, none with a"
                                + " machine on two nodes; 0 violations%n", kills, acknowledged.creates().size(),
                        acknowledged.deletes().size(), load.unanswered.size(), unansweredMade, load.refused.get(),
                        running, samples.get());
            } finally {
                if (sampler != null) sampler.interrupt();
                load.stop();
                for (FakeAgent agent : agents) agent.close();
                for (Process replica : replicas) {
                    if (replica != null) replica.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
                }
            }
        }
    }

    /** The checker finds a made-up lost create and a made-up delete of a machine that is there. */
    private static void notBlind(Connection store, Invariants.Acknowledged acknowledged, List<FakeAgent> agents)
            throws Exception {
        String kept = acknowledged.creates().keySet().stream().filter(id -> !acknowledged.deletes().contains(id))
                .findFirst().orElseThrow();
        var creates = new java.util.HashMap<>(acknowledged.creates());
        creates.put("m-never-made", "ghost");
        var deletes = new java.util.HashSet<>(acknowledged.deletes());
        deletes.add(kept);
        assertThat(Invariants.check(store, new Invariants.Acknowledged(creates, deletes), agents))
                .anyMatch(v -> v.contains("m-never-made"))
                .anyMatch(v -> v.contains("acknowledged delete " + kept));
    }

    /** The index of the replica that leads, once one does (a dead or starting replica does not answer). */
    private static int awaitLeader(List<Integer> ports) {
        var leader = new AtomicInteger(-1);
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200)).until(() -> {
            for (int i = 0; i < ports.size(); i++) {
                try {
                    if (new Http(ports.get(i)).get("/v1/status", ClusterSuite.ADMIN).json().path("leader")
                            .asBoolean()) {
                        leader.set(i);
                        return true;
                    }
                } catch (UncheckedIOException e) {
                    // down or not serving yet
                }
            }
            return false;
        });
        return leader.get();
    }

    private static Connection connect(String db) throws Exception {
        var url = URI.create(db);
        return DriverManager.getConnection("jdbc:postgresql://" + url.getHost() + ":" + url.getPort()
                + url.getPath(), url.getUserInfo(), "");
    }

    /**
     * Clients creating machines and deleting their oldest, each through a client of every replica, recording what
     * was acknowledged. A create with no answer (its replica died mid-request) may or may not have happened and is
     * counted only; a delete with no answer is sent again until it is answered.
     */
    private static final class Load {
        final Map<String, String> creates = new ConcurrentHashMap<>();
        final Set<String> deletes = ConcurrentHashMap.newKeySet();
        /** The names of the creates that got no answer. */
        final Set<String> unanswered = ConcurrentHashMap.newKeySet();
        final AtomicInteger refused = new AtomicInteger();
        final List<String> failures = new CopyOnWriteArrayList<>();
        private final List<Thread> threads = new ArrayList<>();
        private volatile boolean stopping;

        void start(int client, Http http) {
            threads.add(Thread.ofPlatform().daemon().name("chaos-client-" + client).start(() -> {
                var kept = new ArrayDeque<String>();
                try {
                    for (int n = 0; !stopping; n++) {
                        create(http, "c" + client + "-" + n, kept);
                        if (kept.size() > KEPT) delete(http, kept.removeFirst());
                        Thread.sleep(100);
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                } catch (RuntimeException | AssertionError e) {
                    failures.add("client " + client + ": " + e);
                }
            }));
        }

        private void create(Http http, String name, ArrayDeque<String> kept) {
            try {
                var body = ClusterSuite.createBody(ClusterSuite.small(name));
                var created = http.post(MACHINES, ClusterSuite.ADMIN, body);
                if (created.status() == 201) {
                    String id = created.json().path("id").asString();
                    creates.put(id, name);
                    kept.add(id);
                } else {
                    refused.incrementAndGet();
                }
            } catch (UncheckedIOException e) {
                unanswered.add(name);
            }
        }

        /**
         * Deletes {@code id} until a replica answers 204, or 404 after an attempt that got no answer or another
         * status (which may have been carried out); a failure after 300 attempts (a minute) without such an answer.
         */
        private void delete(Http http, String id) throws InterruptedException {
            boolean unsure = false;
            for (int attempt = 0; attempt < 300; attempt++) {
                try {
                    int status = http.delete("/v1/namespaces/chaos/machines/" + id, ClusterSuite.ADMIN).status();
                    if (status == 204 || status == 404 && unsure) {
                        deletes.add(id);
                        return;
                    }
                    if (status == 404) {
                        failures.add("acknowledged create " + id + " was not found when deleted");
                        return;
                    }
                    unsure = true;
                } catch (UncheckedIOException e) {
                    unsure = true;
                }
                Thread.sleep(200);
            }
            throw new IllegalStateException("delete " + id + ": no answer of 204 or 404 in 300 attempts");
        }

        Invariants.Acknowledged acknowledged() {
            return new Invariants.Acknowledged(Map.copyOf(creates), Set.copyOf(deletes));
        }

        void stop() throws InterruptedException {
            stopping = true;
            for (Thread t : threads) t.join(TimeUnit.SECONDS.toMillis(60));
        }
    }
}
