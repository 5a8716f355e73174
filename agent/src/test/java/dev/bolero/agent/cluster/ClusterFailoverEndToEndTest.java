package dev.bolero.agent.cluster;

import static dev.bolero.server.Http.call;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.bolero.agent.ClusterNetwork;
import dev.bolero.oci.testing.ImageSpec;
import dev.bolero.oci.testing.TestImages;
import dev.bolero.oci.testing.TestRegistry;
import dev.bolero.server.Http.Response;
import dev.bolero.server.PostgresCluster;
import dev.bolero.server.Server;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

/**
 * The cluster on PostgreSQL with two server replicas: the leader in its own JVM, the other in this one, both on one
 * database, and three real agents, each in its own network namespace, given both replicas' URLs. A machine is placed
 * and booted; the leader is killed with SIGKILL; the agents move to the surviving replica without fencing (the machine
 * keeps running where it was), the survivor takes the singleton loops, and when an agent is then killed its node goes
 * {@code down} and its machine is booted on another node — all seen through the surviving replica's API. Two VM boots.
 */
class ClusterFailoverEndToEndTest {
    private static final String ADMIN = "admin-token-failover-e2e-0123456789";
    private static final String JOIN = "join-token-failover-e2e-0123456789";

    @TempDir
    Path dir;

    private ClusterNetwork network;
    private TestRegistry registry;
    private PostgresCluster postgres;
    private Process leader;
    private Server survivor;
    private final List<AgentNode> nodes = new ArrayList<>();

    @Test
    void after_the_leader_replica_is_killed_the_agents_and_the_api_move_to_the_other_which_reschedules_a_lost_node()
            throws Exception {
        String why = PostgresCluster.unavailable();
        assumeTrue(why == null, why);
        network = ClusterNetwork.create();
        registry = TestRegistry.startOn(network.hostIp());
        String image = TestImages.push(registry, "failover/sleeper:1",
                ImageSpec.cmd("sh", "-c", "echo up; exec sleep 600"));
        postgres = new PostgresCluster();
        String db = postgres.newDatabase();

        leader = ClusterReplicaMain.start(dir.resolve("replica-a"), db, network.hostIp(), ADMIN, JOIN);
        String leaderUrl = "http://" + network.hostIp() + ":" + ClusterReplicaMain.port(leader, "replica-a");
        await().atMost(Duration.ofSeconds(60)).ignoreExceptions().until(() ->
                call("GET", leaderUrl + "/v1/status", ADMIN, null).json().path("leader").asBoolean());
        survivor = Server.start(ClusterReplicaMain.config(dir.resolve("replica-b"), db, network.hostIp(), ADMIN, JOIN));
        String survivorUrl = "http://" + network.hostIp() + ":" + survivor.port();
        assertThat(survivor.leading()).isFalse();

        for (String name : List.of("f1", "f2", "f3")) {
            var n = new AgentNode(name, dir.resolve(name), network.addNode(), () -> List.of(leaderUrl, survivorUrl),
                    JOIN, registry.host());
            nodes.add(n);
            n.start();
        }
        assertThat(call("POST", leaderUrl + "/v1/namespaces", ADMIN, "{\"name\": \"alpha\"}").status()).isEqualTo(201);
        assertThat(call("POST", leaderUrl + "/v1/namespaces/alpha/fleets", ADMIN, "{\"name\": \"web\"}").status())
                .isEqualTo(201);
        var created = call("POST", leaderUrl + "/v1/namespaces/alpha/fleets/web/machines", ADMIN,
                "{\"name\": \"web-1\", \"start\": true, \"config\": {\"image\": \"" + image + "\","
                        + " \"guest\": {\"cpus\": 1, \"memory_mb\": 256}}}");
        assertThat(created.status()).as(created.body()).isEqualTo(201);
        String id = created.json().path("id").asString();
        AgentNode first = waitRunning(leaderUrl, id, null);

        leader.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> assertThat(survivor.leading()).isTrue());
        // The agents now talk to the survivor: their heartbeats keep every node ready and nobody fenced the machine.
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            for (AgentNode n : nodes) {
                var node = call("GET", survivorUrl + "/v1/nodes/" + n.id, ADMIN, null).json();
                assertThat(node.path("state").asString()).as("node %s: %s", n.name, node).isEqualTo("ready");
            }
        });
        assertThat(first.localState(id)).as("the machine after the leader's death").isEqualTo("running");
        assertThat(waitRunning(survivorUrl, id, null)).isSameAs(first);

        first.kill();
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> assertThat(
                call("GET", survivorUrl + "/v1/nodes/" + first.id, ADMIN, null).json().path("state").asString())
                .isEqualTo("down"));
        AgentNode second = waitRunning(survivorUrl, id, first.id);
        assertThat(second).isNotSameAs(first);
        Response list = call("GET", survivorUrl + "/v1/namespaces/alpha/machines", ADMIN, null);
        assertThat(list.status()).isEqualTo(200);
        assertThat(list.json().size()).isEqualTo(1);
    }

    @AfterEach
    void tearDown() throws Exception {
        try {
            AgentNode.killAll(nodes, dir);
        } finally {
            try {
                if (leader != null) leader.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
                if (survivor != null) survivor.close();
                if (postgres != null) postgres.close();
                if (registry != null) registry.close();
            } finally {
                if (network != null) network.closeLeavingNothing();
            }
        }
    }

    /** Waits until the control plane at {@code server} reports the machine running on a node other than {@code notOn}. */
    private AgentNode waitRunning(String server, String id, String notOn) {
        var on = new AtomicReference<AgentNode>();
        await().atMost(Duration.ofSeconds(240)).pollInterval(Duration.ofMillis(500)).untilAsserted(() -> {
            JsonNode m = call("GET", server + "/v1/namespaces/alpha/machines/" + id, ADMIN, null).json();
            String nodeId = m.path("node_id").asString();
            assertThat(nodeId).as("node of %s: %s", id, m).isNotEqualTo(notOn).isNotEmpty();
            assertThat(m.path("state").asString()).as("state of %s: %s", id, m).isEqualTo("running");
            AgentNode n = nodes.stream().filter(x -> nodeId.equals(x.id)).findFirst().orElseThrow();
            assertThat(n.localState(id)).as("state of %s on %s", id, n.name).isEqualTo("running");
            on.set(n);
        });
        return on.get();
    }
}
