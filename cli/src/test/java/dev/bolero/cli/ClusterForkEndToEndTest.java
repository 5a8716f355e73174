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
 * Fork through the control plane with a real server (SQLite) and a real agent joined to it, both in this JVM, and a real
 * QEMU microVM whose workload counts in memory: {@code bolero fork counter --count 2} past the namespace's quota is refused
 * (exit 7, nothing made); within it, the two clones are placed on the source's node, reach running, carry on the
 * source's count in the same process, and have their own hostnames and machine-ids; the source counts on. One cold
 * boot, two clones.
 */
class ClusterForkEndToEndTest {
    private static final String ADMIN = "admin-token-fork-e2e-0123456789";
    private static final String JOIN = "join-token-fork-e2e-0123456789";
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
                Optional.of(new Capacity(4, 2048))));
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
    void clones_forked_with_the_cli_run_on_the_sources_node_from_its_memory_within_the_namespaces_quota()
            throws Exception {
        String image = TestImages.push(registry, "fork/counter:1", ImageSpec.cmd("sh", "-c",
                "i=0; while true; do i=$((i+1)); echo n=$i pid=$$; sleep 0.2; done"));
        var created = api("POST", NS + "/fleets/app/machines", Map.of("name", "counter", "start", true,
                "config", Map.of("image", image, "guest", Map.of("cpus", 1, "memory_mb", 128))));
        assertThat(created.status()).as("%s", created).isEqualTo(201);
        String source = created.json().path("id").asString();
        waitFor(source, "running");
        await().atMost(Duration.ofSeconds(60)).until(() -> counts(logs(source)).size() >= 3);
        long sourcePid = counts(logs(source)).getFirst()[1];

        assertThat(api("PUT", NS + "/quota", Map.of("machines", 3)).status()).isEqualTo(200);
        Run over = bolero("fork", "counter", "-c", "3");
        assertThat(over.exit()).as(over.stderr()).isEqualTo(7);
        assertThat(over.stderr()).contains("fork machine " + source);
        assertThat(api("GET", NS + "/machines", null).json()).hasSize(1);

        Run fork = bolero("fork", "counter", "--count", "2");
        assertThat(fork.exit()).as(fork.stderr()).isZero();
        List<String> clones = new ArrayList<>();
        api("GET", NS + "/machines", null).json().forEach(m -> {
            if (!m.path("id").asString().equals(source)) clones.add(m.path("id").asString());
        });
        assertThat(clones).hasSize(2);
        Set<String> hostnames = new java.util.HashSet<>(Set.of(hostnameAndMachineId(source)[0]));
        Set<String> machineIds = new java.util.HashSet<>();
        for (String clone : clones) {
            assertThat(fork.stdout()).contains(clone);
            waitFor(clone, "running");
            assertThat(api("GET", NS + "/machines/" + clone, null).json().path("node_id").asString())
                    .isEqualTo(api("GET", NS + "/machines/" + source, null).json().path("node_id").asString());
            long last = counts(logs(clone)).isEmpty() ? 0 : counts(logs(clone)).getLast()[0];
            await().atMost(Duration.ofSeconds(60)).until(() -> !counts(logs(clone)).isEmpty()
                    && counts(logs(clone)).getLast()[0] > last + 3);
            assertThat(counts(logs(clone))).as("the source's process counts on in the clone")
                    .allSatisfy(c -> assertThat(c[1]).isEqualTo(sourcePid))
                    .noneSatisfy(c -> assertThat(c[0]).isEqualTo(1));
            String[] identity = hostnameAndMachineId(clone);
            assertThat(hostnames.add(identity[0])).as("hostname %s", identity[0]).isTrue();
            assertThat(machineIds.add(identity[1])).as("machine-id %s", identity[1]).isTrue();
        }
        long lastSource = counts(logs(source)).getLast()[0];
        await().atMost(Duration.ofSeconds(60)).until(() -> counts(logs(source)).getLast()[0] > lastSource + 3);
        assertThat(counts(logs(source))).allSatisfy(c -> assertThat(c[1]).isEqualTo(sourcePid));
    }

    /** The guest's hostname and {@code /etc/machine-id}, through the server's exec. */
    private String[] hostnameAndMachineId(String id) {
        var r = api("POST", NS + "/machines/" + id + "/exec",
                Map.of("cmd", List.of("sh", "-c", "hostname; cat /etc/machine-id 2>/dev/null || echo none")));
        assertThat(r.status()).as("%s", r).isEqualTo(200);
        return r.json().path("stdout").asString().split("\n");
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
