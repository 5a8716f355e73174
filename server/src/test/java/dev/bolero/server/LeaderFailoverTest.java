package dev.bolero.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two server replicas on one PostgreSQL: the first (its own JVM) leads; killed with SIGKILL, its advisory lock goes
 * with its session and the second replica takes over the loops, detecting a lost node and moving its machine.
 */
class LeaderFailoverTest {
    @TempDir
    Path dir;

    @Test
    void killingTheLeaderHandsTheLoopsToAnotherReplica() throws Exception {
        String why = PostgresCluster.unavailable();
        if (why != null) System.out.println("skipping PostgreSQL tests: " + why);
        assumeTrue(why == null, why);
        try (var postgres = new PostgresCluster()) {
            String db = postgres.newDatabase();
            Process leader = ReplicaMain.start(dir.resolve("a"), db, 0);
            var leaderHttp = new Http(ReplicaMain.port(leader));
            await().atMost(Duration.ofSeconds(60)).until(() ->
                    leaderHttp.get("/v1/status", ClusterSuite.ADMIN).json().path("leader").asBoolean());
            try (var follower = Server.start(ClusterSuite.config(dir.resolve("b"), Optional.of(db)))) {
                var http = new Http(follower.port());
                assertThat(http.get("/v1/status", ClusterSuite.ADMIN).json().path("leader").asBoolean()).isFalse();

                assertThat(http.post("/v1/namespaces", ClusterSuite.ADMIN, Map.of("name", "alpha")).status())
                        .isEqualTo(201);
                assertThat(leaderHttp.post("/v1/namespaces/alpha/fleets", ClusterSuite.ADMIN, Map.of("name", "web"))
                        .status()).isEqualTo(201);
                try (var a = new FakeAgent(http, ClusterSuite.JOIN, "a", Map.of(), 4, 8192).live();
                     var b = new FakeAgent(http, ClusterSuite.JOIN, "b", Map.of(), 4, 8192).live()) {
                    var created = http.post("/v1/namespaces/alpha/fleets/web/machines", ClusterSuite.ADMIN,
                            ClusterSuite.createBody(ClusterSuite.small("web-1")));
                    assertThat(created.status()).as("%s", created).isEqualTo(201);
                    String id = created.json().path("id").asString();
                    String first = created.json().path("node_id").asString();
                    FakeAgent lost = first.equals(a.id) ? a : b;
                    FakeAgent other = lost == a ? b : a;

                    leader.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
                    lost.silence();
                    await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
                        assertThat(follower.leading()).isTrue();
                        var m = http.get("/v1/namespaces/alpha/machines/" + id, ClusterSuite.ADMIN).json();
                        assertThat(m.path("node_id").asString()).isEqualTo(other.id);
                    });
                    assertThat(http.get("/v1/nodes/" + lost.id, ClusterSuite.ADMIN).json().path("state").asString())
                            .isEqualTo("down");
                }
            } finally {
                leader.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
            }
        }
    }
}
