package dev.bolero.agent.cluster;

import static dev.bolero.server.Http.call;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.bolero.agent.ClusterNetwork;
import dev.bolero.oci.testing.ImageSpec;
import dev.bolero.oci.testing.TestImages;
import dev.bolero.oci.testing.TestRegistry;
import dev.bolero.server.Http.Response;
import dev.bolero.server.PostgresCluster;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.StreamSupport;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

/**
 * A deploy outlives the replica running it, on real VMs: two server replicas (each its own JVM) on one PostgreSQL
 * database and one real agent that knows both. A rolling deploy of a two-machine fleet starts; once it replaces its
 * first machine, the leading replica (the one running deploys) is killed with SIGKILL. The other replica takes the
 * lead, resumes the deployment from its recorded steps and finishes it: both machines on the new release with their
 * checks passing, each step recorded once. At most three VMs run at a time.
 */
class DeployFailoverEndToEndTest {
    private static final String ADMIN = "admin-token-deploy-failover-0123456789";
    private static final String JOIN = "join-token-deploy-failover-0123456789";
    private static final String FLEET = "/v1/namespaces/alpha/fleets/web";

    @TempDir
    Path dir;

    private final List<String> urls = new ArrayList<>();

    @Test
    void aDeployContinuesOnAnotherReplicaAfterTheLeaderIsKilled() throws Exception {
        String why = PostgresCluster.unavailable();
        Assumptions.assumeTrue(why == null, () -> "skipped: " + why);
        var network = ClusterNetwork.create();
        TestRegistry registry = null;
        PostgresCluster postgres = null;
        var replicas = new Process[2];
        var nodes = new ArrayList<AgentNode>();
        try {
            registry = TestRegistry.startOn(network.hostIp());
            String image = TestImages.push(registry, "failover/web:1", ImageSpec.cmd("sh", "-c",
                    "mkdir -p /www; echo ok > /www/health; exec httpd -f -p 8080 -h /www"));
            postgres = new PostgresCluster();
            String db = postgres.newDatabase();
            for (int i = 0; i < replicas.length; i++) {
                replicas[i] = ClusterReplicaMain.start(dir.resolve("r" + i), db, network.hostIp(), ADMIN, JOIN);
            }
            for (int i = 0; i < replicas.length; i++) {
                urls.add("http://" + network.hostIp() + ":" + ClusterReplicaMain.port(replicas[i], "replica-" + i));
            }
            List<String> both = List.copyOf(urls);
            var node = new AgentNode("n1", dir.resolve("n1"), network.addNode(), () -> both,
                    JOIN, registry.host());
            nodes.add(node);
            node.start();
            assertThat(api("POST", "/v1/namespaces", "{\"name\": \"alpha\"}").status()).isEqualTo(201);
            var created = api("POST", "/v1/namespaces/alpha/fleets",
                    "{\"name\": \"web\", \"count\": 2, \"config\": " + config(image, 1) + "}");
            assertThat(created.status()).as(created.body()).isEqualTo(201);
            awaitHealthy(1);

            var started = api("POST", FLEET + "/deployments", "{\"config\": " + config(image, 2)
                    + ", \"strategy\": \"rolling\", \"max_unavailable\": 1, \"wait_timeout_s\": 240}");
            assertThat(started.status()).as(started.body()).isEqualTo(201);
            String id = started.json().path("id").asString();
            await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(200)).until(() ->
                    steps(deployment(id)).contains("replacing"));

            int leader = leader();
            replicas[leader].destroyForcibly().waitFor(30, TimeUnit.SECONDS);
            urls.remove(leader);
            System.out.printf("deploy failover: SIGKILLed the leading replica while deployment %s was at %s%n", id,
                    steps(deployment(id)));

            var end = new AtomicReference<JsonNode>();
            await().atMost(Duration.ofSeconds(600)).pollInterval(Duration.ofSeconds(1)).until(() -> {
                JsonNode d = deployment(id);
                end.set(d);
                return !List.of("running", "rolling_back").contains(d.path("status").asString());
            });
            assertThat(end.get().path("status").asString()).as(end.get().toString()).isEqualTo("succeeded");
            assertThat(steps(end.get())).as("each step once, in order").startsWith("started").endsWith("succeeded")
                    .filteredOn("started"::equals).hasSize(1);
            awaitHealthy(2);
            System.out.printf("deploy failover: the surviving replica finished it: %s%n", steps(end.get()));
        } finally {
            for (Process replica : replicas) {
                if (replica != null) replica.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
            }
            PostgresCluster pg = postgres;
            AgentNode.tearDown(nodes, dir, pg, registry, network);
        }
    }

    /** The fleet's machine config: the test image, revision {@code revision}, with a quick HTTP check. */
    private static String config(String image, int revision) {
        return """
                {"image": "%s", "guest": {"cpus": 1, "memory_mb": 256}, "env": {"REVISION": "%d"},
                 "checks": {"web": {"type": "http", "port": 8080, "path": "/health", "interval_s": 1, "timeout_s": 1}}}
                """.formatted(image, revision);
    }

    /** The index in {@link #urls} of the replica that leads, once one does. */
    private int leader() {
        var leader = new AtomicReference<Integer>();
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200)).until(() -> {
            for (int i = 0; i < urls.size(); i++) {
                var status = call("GET", urls.get(i) + "/v1/status", ADMIN, null);
                if (status.status() == 200 && status.json().path("leader").asBoolean()) {
                    leader.set(i);
                    return true;
                }
            }
            return false;
        });
        return leader.get();
    }

    private JsonNode deployment(String id) {
        return api("GET", FLEET + "/deployments/" + id, null).json();
    }

    private static List<String> steps(JsonNode deployment) {
        return StreamSupport.stream(deployment.path("steps").spliterator(), false)
                .map(s -> s.path("kind").asString()).toList();
    }

    /** Waits until the fleet has two machines, all of release {@code version}, running with their check passing. */
    private void awaitHealthy(long version) {
        await().atMost(Duration.ofSeconds(300)).pollInterval(Duration.ofSeconds(1)).untilAsserted(() -> {
            JsonNode machines = api("GET", FLEET + "/machines", null).json();
            assertThat(machines.size()).as(machines.toString()).isEqualTo(2);
            for (JsonNode m : machines) {
                assertThat(m.path("config_version").asLong()).as(m.toString()).isEqualTo(version);
                assertThat(m.path("state").asString()).as(m.toString()).isEqualTo("running");
                assertThat(StreamSupport.stream(m.path("checks").spliterator(), false)
                        .anyMatch(c -> c.path("status").asString().equals("passing"))).as(m.toString()).isTrue();
            }
        });
    }

    /** Asks the first replica that answers (one of them may be dead). */
    private Response api(String method, String path, String body) {
        Response last = null;
        for (String url : urls) {
            try {
                last = call(method, url + path, ADMIN, body);
                if (last.status() < 500) return last;
            } catch (RuntimeException e) {
                // a dead replica: try the next
            }
        }
        if (last == null) throw new AssertionError(method + " " + path + ": no replica answered");
        return last;
    }
}
