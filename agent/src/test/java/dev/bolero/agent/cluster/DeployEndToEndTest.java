package dev.bolero.agent.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.bolero.oci.testing.ImageSpec;
import dev.bolero.server.Http.Response;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.StreamSupport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

/**
 * Deploys on real VMs: one control-plane server (SQLite, in this JVM) and three real agents, each in its own network
 * namespace, and a spread fleet of three machines (one a node) of a web image whose HTTP check is served only when the
 * machine's env says so. The checks show on the cluster API's machines; a release that passes its checks rolls out to
 * all three; a release whose check fails is rolled back by the control plane on its own, the fleet never having fewer
 * than two passing machines (count - max_unavailable) while it does; the fleet scales up and down. At most four VMs
 * run at a time.
 */
class DeployEndToEndTest {
    private static final String FLEET = "/v1/namespaces/alpha/fleets/web";

    @TempDir
    static Path dir;

    private static TestCluster cluster;
    private static String image;

    @BeforeAll
    static void setUp() throws Exception {
        cluster = TestCluster.builder(dir, "deploy").image("deploy/web:1", ImageSpec.cmd("sh", "-c",
                "mkdir -p /www; [ \"$HEALTH\" = bad ] || echo ok > /www/health; exec httpd -f -p 8080 -h /www"))
                .nodes("n1", "n2", "n3").start();
        image = cluster.image();
        assertThat(api("POST", "/v1/namespaces", "{\"name\": \"alpha\"}").status()).isEqualTo(201);
    }

    @AfterAll
    static void tearDown() throws Exception {
        if (cluster != null) cluster.close();
    }

    /** The fleet's machine config: the test image with {@code env}, its web check, and a quick check interval. */
    private static String config(String health, int revision) {
        return """
                {"image": "%s", "guest": {"cpus": 1, "memory_mb": 256},
                 "env": {"HEALTH": "%s", "REVISION": "%d"},
                 "checks": {"web": {"type": "http", "port": 8080, "path": "/health", "interval_s": 1, "timeout_s": 1}}}
                """.formatted(image, health, revision);
    }

    @Test
    void aGoodReleaseRollsOutAndAFailingOneIsRolledBackOnItsOwn() {
        var created = api("POST", "/v1/namespaces/alpha/fleets",
                "{\"name\": \"web\", \"strategy\": \"spread\", \"count\": 3, \"config\": " + config("good", 1)
                        + "}");
        assertThat(created.status()).as(created.body()).isEqualTo(201);
        awaitHealthy(1);
        assertThat(StreamSupport.stream(machines().spliterator(), false).map(m -> m.path("node_id").asString())
                .distinct().count()).as("one machine a node").isEqualTo(3);

        // A good release: rolled out to all three machines, one at a time.
        JsonNode good = deploy(config("good", 2), 240);
        assertThat(good.path("status").asString()).as(good.toString()).isEqualTo("succeeded");
        assertThat(good.path("to_version").asLong()).isEqualTo(2);
        awaitHealthy(2);

        // A release whose check fails: rolled back to release 2, never fewer than two passing machines meanwhile.
        var fewest = new AtomicInteger(Integer.MAX_VALUE);
        JsonNode bad = deploy(config("bad", 3), 45, () -> fewest.accumulateAndGet(passing(machines()), Math::min));
        assertThat(bad.path("status").asString()).as(bad.toString()).isEqualTo("rolled_back");
        assertThat(bad.path("message").asString()).startsWith("release 3: machine ").contains("check web");
        assertThat(fewest.get()).as("passing machines during the failed deploy").isGreaterThanOrEqualTo(2);
        awaitHealthy(2);

        // Scaled up and down: the control plane makes and removes machines to match, all of the current release.
        scale(4);
        awaitHealthy(2, 4);
        scale(2);
        awaitHealthy(2, 2);

        JsonNode releases = api("GET", FLEET + "/releases", null).json();
        assertThat(StreamSupport.stream(releases.spliterator(), false).map(r -> r.path("version").asLong()).toList())
                .containsExactly(3L, 2L, 1L);
        assertThat(StreamSupport.stream(releases.spliterator(), false).filter(r -> r.path("current").asBoolean())
                .map(r -> r.path("version").asLong()).toList()).containsExactly(2L);
        var second = api("POST", FLEET + "/deployments", "{\"version\": 1}");
        assertThat(second.status()).as(second.body()).isEqualTo(201);
        var conflict = api("POST", FLEET + "/deployments", "{\"version\": 2}");
        assertThat(conflict.status()).as("a second deploy while one runs: %s", conflict.body()).isEqualTo(409);
    }

    private static JsonNode deploy(String config, int waitTimeoutS) {
        return deploy(config, waitTimeoutS, () -> 0);
    }

    /** Starts a rolling deploy of {@code config} and waits for its end, calling {@code sample} every half second. */
    private static JsonNode deploy(String config, int waitTimeoutS, java.util.function.IntSupplier sample) {
        var r = api("POST", FLEET + "/deployments", "{\"config\": " + config + ", \"strategy\": \"rolling\", "
                + "\"max_unavailable\": 1, \"wait_timeout_s\": " + waitTimeoutS + "}");
        assertThat(r.status()).as(r.body()).isEqualTo(201);
        String id = r.json().path("id").asString();
        var end = new java.util.concurrent.atomic.AtomicReference<JsonNode>();
        await().atMost(Duration.ofSeconds(600)).pollInterval(Duration.ofMillis(500)).until(() -> {
            sample.getAsInt();
            JsonNode d = api("GET", FLEET + "/deployments/" + id, null).json();
            end.set(d);
            String status = d.path("status").asString();
            return !status.equals("running") && !status.equals("rolling_back");
        });
        return end.get();
    }

    /** Sets the fleet's count, keeping the rest of it. */
    private static void scale(int count) {
        JsonNode fleet = api("GET", FLEET, null).json();
        var r = api("PUT", FLEET, "{\"name\": \"web\", \"strategy\": \"spread\", \"count\": " + count
                + ", \"config\": " + fleet.path("config") + "}");
        assertThat(r.status()).as(r.body()).isEqualTo(200);
    }

    /** Waits until the fleet has three machines, all of release {@code version}, running with their check passing. */
    private static void awaitHealthy(long version) {
        awaitHealthy(version, 3);
    }

    /** Waits until the fleet has {@code count} machines, all of release {@code version}, running with their check passing. */
    private static void awaitHealthy(long version, int count) {
        await().atMost(Duration.ofSeconds(300)).pollInterval(Duration.ofMillis(500)).untilAsserted(() -> {
            JsonNode machines = machines();
            assertThat(machines.size()).as(machines.toString()).isEqualTo(count);
            for (JsonNode m : machines) assertThat(m.path("config_version").asLong()).as(m.toString()).isEqualTo(version);
            assertThat(passing(machines)).as(machines.toString()).isEqualTo(count);
        });
    }

    /** How many of {@code machines} run with their check passing, as the cluster API shows them. */
    private static int passing(JsonNode machines) {
        int n = 0;
        for (JsonNode m : machines) {
            boolean passing = StreamSupport.stream(m.path("checks").spliterator(), false)
                    .anyMatch(c -> c.path("name").asString().equals("web")
                            && c.path("status").asString().equals("passing"));
            if (m.path("state").asString().equals("running") && passing) n++;
        }
        return n;
    }

    private static JsonNode machines() {
        return api("GET", FLEET + "/machines", null).json();
    }

    private static Response api(String method, String path, String body) {
        return cluster.api(method, path, body);
    }
}
