package dev.bolero.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.bolero.oci.testing.ImageSpec;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.Set;
import java.util.stream.StreamSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

/**
 * Health checks on a real microVM with a real network: an HTTP check from the node and an exec check in the guest pass
 * while the image's web server runs; killing the server inside the machine (the workload goes on) fails both, and after
 * {@code failures_before_restart} failures the node restarts the machine (even under policy {@code no}), whose checks
 * then pass again.
 */
class HealthChecksEndToEndTest {
    @RegisterExtension
    static final AgentFixture env = AgentFixture.withImage("checks/web:1",
            // The server runs in the background: killing it leaves the workload (sleep) running, so only the checks
            // can tell.
            ImageSpec.cmd("sh", "-c", "httpd -p 8080 -h /www && exec sleep 100000").withFile("/www/health", "ok\n"));

    @TempDir
    static Path dataDir;

    @RegisterExtension
    static final HostNetworkFixture net = HostNetworkFixture.perClass();

    private static JsonNode check(JsonNode machine, String name) {
        return StreamSupport.stream(machine.path("checks").spliterator(), false)
                .filter(c -> c.path("name").asString().equals(name)).findFirst().orElseThrow();
    }

    @Test
    void failingChecksRestartTheMachineAndPassingOnesShowOnIt() throws Exception {
        try (var node = new AgentHarness(dataDir.resolve("checks"), Set.of(), Optional.of(net.config()))) {
            String id = node.create("""
                    {"name": "web", "namespace": "alpha", "start": true, "config": {"image": "%s",
                     "restart": {"policy": "no", "failures_before_restart": 2},
                     "checks": {"web": {"type": "http", "port": 8080, "path": "/health", "interval_s": 1,
                                        "timeout_s": 1},
                                "ps": {"type": "exec", "command": ["pidof", "httpd"], "interval_s": 2}}}}
                    """.formatted(env.image()));
            node.waitFor(id, "running", 300);
            await().atMost(Duration.ofSeconds(120)).untilAsserted(() -> {
                JsonNode m = node.get("/api/v1/machines/" + id).json();
                assertThat(m.path("checks").toString()).as("checks").doesNotContain("critical");
            });
            JsonNode healthy = node.get("/api/v1/machines/" + id).json();
            assertThat(check(healthy, "web").path("output").asString()).isEqualTo("HTTP 200: ok");
            assertThat(check(healthy, "ps").path("output").asString()).startsWith("exit 0");

            node.exec(id, "{\"cmd\": [\"killall\", \"httpd\"]}");

            await().atMost(Duration.ofSeconds(120)).until(() ->
                    node.get("/api/v1/machines/" + id).json().path("restart_count").asInt() == 1);
            var events = node.get("/api/v1/machines/" + id + "/events").json();
            var types = StreamSupport.stream(events.spliterator(), false).map(e -> e.path("type").asString()).toList();
            assertThat(types).contains("check_passing", "check_critical", "restarting");
            assertThat(StreamSupport.stream(events.spliterator(), false)
                    .filter(e -> "check failed".equals(e.path("reason").asString())).findFirst())
                    .hasValueSatisfying(e -> assertThat(e.path("detail").asString()).startsWith("check web failing: "));
            node.waitFor(id, "running", 300);
            await().atMost(Duration.ofSeconds(120)).until(() -> check(node.get("/api/v1/machines/" + id).json(), "web")
                    .path("status").asString().equals("passing"));
        }
    }
}
