package dev.bolero.cli;

import static dev.bolero.server.Http.call;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.bolero.agent.Agent;
import dev.bolero.agent.AgentConfig;
import dev.bolero.agent.cluster.ClusterConfig;
import dev.bolero.api.wire.Capacity;
import dev.bolero.cli.CliProcess.Run;
import dev.bolero.oci.testing.ImageSpec;
import dev.bolero.oci.testing.TestImages;
import dev.bolero.oci.testing.TestRegistry;
import dev.bolero.runtime.qemu.QemuDriver;
import dev.bolero.server.Http.Response;
import dev.bolero.server.Server;
import dev.bolero.server.ServerConfig;
import dev.bolero.server.cluster.NodeRegistry;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

/**
 * Suspend and resume through the control plane with a real server (SQLite) and a real agent joined to it, both in this
 * JVM, and one real QEMU microVM whose workload counts in memory: suspended through the API and resumed with
 * {@code bolero start}, then suspended with {@code bolero suspend} and resumed through the API. The same process counts
 * on across both (one pid, the count never starts again), and {@code bolero ps} lists it while it is suspended. One
 * cold boot, two resumes.
 */
class ClusterSuspendEndToEndTest {
    private static final String ADMIN = "admin-token-suspend-e2e-0123456789";
    private static final String JOIN = "join-token-suspend-e2e-0123456789";
    private static final String NS = "/v1/namespaces/alpha";
    private static final Pattern COUNT = Pattern.compile("n=(\\d+) pid=(\\d+)");

    @TempDir
    Path dir;

    private TestRegistry registry;
    private Server server;
    private Agent agent;

    @BeforeEach
    void setUp() throws Exception {
        registry = TestRegistry.start();
        server = Server.start(ServerConfig.of("127.0.0.1", 0, dir.resolve("server"))
                .withTokens(Optional.of(ADMIN), Optional.of(JOIN))
                // Node loss is not under test: a busy host must not make the node look lost.
                .withTiming(new NodeRegistry.Timing(Duration.ofSeconds(1), Duration.ofSeconds(300),
                        Duration.ofSeconds(150)), Duration.ofMillis(200)));
        agent = Agent.start(new AgentConfig("127.0.0.1", 0, dir.resolve("agent"), Set.of(), QemuDriver.Accel.AUTO,
                Optional.empty(), Duration.ofSeconds(180)));
        agent.joinCluster(new ClusterConfig(URI.create(serverUrl()), JOIN, "n1", Map.of(),
                Optional.of(new Capacity(2, 2048))));
        assertThat(api("POST", "/v1/namespaces", Map.of("name", "alpha")).status()).isEqualTo(201);
        assertThat(api("POST", NS + "/fleets", Map.of("name", "app")).status()).isEqualTo(201);
    }

    @AfterEach
    void tearDown() throws Exception {
        try {
            if (agent != null) {
                // Deleted through the node, so its VMM is gone before the agent detaches from it.
                for (JsonNode m : local("GET", "/api/v1/machines").json()) {
                    local("DELETE", "/api/v1/machines/" + m.path("id").asString() + "?force=true");
                }
                agent.close();
            }
        } finally {
            try {
                if (server != null) server.close();
            } finally {
                if (registry != null) registry.close();
            }
        }
    }

    @Test
    void a_counting_machine_suspended_through_the_server_resumes_on_its_node_counting_on_and_the_cli_does_both()
            throws Exception {
        String image = TestImages.push(registry, "suspend/counter:1", ImageSpec.cmd("sh", "-c",
                "i=0; while true; do i=$((i+1)); echo n=$i pid=$$; sleep 0.2; done"));
        var created = api("POST", NS + "/fleets/app/machines", Map.of("name", "counter", "start", true,
                "config", Map.of("image", image, "guest", Map.of("cpus", 1, "memory_mb", 128))));
        assertThat(created.status()).as("%s", created).isEqualTo(201);
        String id = created.json().path("id").asString();
        waitFor(id, "running");
        await().atMost(Duration.ofSeconds(60)).until(() -> counts(logs(id)).size() >= 3);

        // Through the API: the answer comes at once, the state once the node has saved the machine.
        var suspend = api("POST", NS + "/machines/" + id + "/suspend", null);
        assertThat(suspend.status()).as("%s", suspend).isEqualTo(200);
        assertThat(suspend.json().path("desired_state").asString()).isEqualTo("suspended");
        waitFor(id, "suspended");
        assertThat(local("GET", "/api/v1/machines/" + id).json().path("state").asString()).isEqualTo("suspended");
        long last = counts(logs(id)).getLast()[0];

        Run ps = bolero("ps");
        assertThat(ps.exit()).as(ps.stderr()).isZero();
        assertThat(ps.stdout().lines().filter(l -> l.contains(id)).toList()).as(ps.stdout()).singleElement()
                .asString().contains("suspended");
        Run start = bolero("start", "counter");
        assertThat(start.exit()).as(start.stderr()).isZero();
        assertThat(start.stdout()).contains(id);
        waitFor(id, "running");
        assertCountsOn(id, last);

        // Through the CLI, resumed through the API.
        Run cliSuspend = bolero("suspend", "counter");
        assertThat(cliSuspend.exit()).as(cliSuspend.stderr()).isZero();
        assertThat(cliSuspend.stdout()).contains(id).contains("suspended");
        waitFor(id, "suspended");
        last = counts(logs(id)).getLast()[0];
        assertThat(api("POST", NS + "/machines/" + id + "/start", null).status()).isEqualTo(200);
        waitFor(id, "running");
        assertCountsOn(id, last);

        List<String> types = new ArrayList<>();
        api("GET", NS + "/machines/" + id + "/events", null).json().forEach(e -> types.add(e.path("type").asString()));
        assertThat(types).contains("suspended", "resumed").doesNotContain("snapshot_discarded");
    }

    /** The count goes on past {@code last} in the same process: one pid, and it never started again. */
    private void assertCountsOn(String id, long last) {
        await().atMost(Duration.ofSeconds(60)).until(() -> counts(logs(id)).getLast()[0] > last + 5);
        List<long[]> counts = counts(logs(id));
        long pid = counts.getFirst()[1];
        assertThat(counts).as("the same process counts on").allSatisfy(c -> assertThat(c[1]).isEqualTo(pid));
        assertThat(counts.stream().filter(c -> c[0] == 1).count()).as("the count never starts again").isEqualTo(1);
    }

    private void waitFor(String id, String state) {
        var r = api("GET", NS + "/machines/" + id + "/wait?state=" + state + ",failed&timeout_s=240", null);
        assertThat(r.status()).as("%s", r).isEqualTo(200);
        assertThat(r.json().path("state").asString()).as("%s", r).isEqualTo(state);
    }

    private String logs(String id) {
        var r = api("GET", NS + "/machines/" + id + "/logs", null);
        assertThat(r.status()).as("%s", r).isEqualTo(200);
        return r.body();
    }

    /** Each {@code n=N pid=P} line of the logs as {N, P}. */
    private static List<long[]> counts(String logs) {
        List<long[]> out = new ArrayList<>();
        Matcher m = COUNT.matcher(logs);
        while (m.find()) out.add(new long[] {Long.parseLong(m.group(1)), Long.parseLong(m.group(2))});
        return out;
    }

    private Run bolero(String... args) throws IOException, InterruptedException {
        var all = new ArrayList<>(List.of(args[0], "--server", serverUrl(), "--token", ADMIN, "-n", "alpha"));
        all.addAll(List.of(args).subList(1, args.length));
        return CliProcess.bolero(dir, "", all.toArray(String[]::new));
    }

    private Response api(String method, String path, Object body) {
        return call(method, serverUrl() + path, ADMIN, body);
    }

    private Response local(String method, String path) {
        return call(method, "http://127.0.0.1:" + agent.port() + path, null, null);
    }

    private String serverUrl() {
        return "http://127.0.0.1:" + server.port();
    }
}
