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
import tools.jackson.databind.JsonNode;

/**
 * A real server (SQLite) and one real agent (node {@code n1}) joined to it, both in this JVM, with a real registry,
 * namespace {@code alpha} and its fleet {@code app}: the set-up of the cluster end-to-end tests of machines' memory
 * (suspend, fork). {@link #close} deletes the node's machines through the node, so no VMM outlives the test, then
 * stops the agent, the server and the registry.
 */
final class OneNodeCluster implements AutoCloseable {
    static final String NS = "/v1/namespaces/alpha";
    private static final Pattern COUNT = Pattern.compile("n=(\\d+) pid=(\\d+)");

    final TestRegistry registry;
    private final Path dir;
    private final String admin;
    private Server server;
    private Agent agent;

    /**
     * @param name distinguishes the tokens of this test's cluster
     * @param capacity what the node offers the scheduler
     */
    OneNodeCluster(Path dir, String name, Capacity capacity) throws Exception {
        this.dir = dir;
        this.admin = "admin-token-" + name + "-e2e-0123456789";
        String join = "join-token-" + name + "-e2e-0123456789";
        registry = TestRegistry.start();
        try {
            server = Server.start(ServerConfig.of("127.0.0.1", 0, dir.resolve("server"))
                    .withTokens(Optional.of(admin), Optional.of(join))
                    // Node loss is not under test: a busy host must not make the node look lost.
                    .withTiming(new NodeRegistry.Timing(Duration.ofSeconds(1), Duration.ofSeconds(300),
                            Duration.ofSeconds(150)), Duration.ofMillis(200)));
            agent = Agent.start(new AgentConfig("127.0.0.1", 0, dir.resolve("agent"), Set.of(), QemuDriver.Accel.AUTO,
                    Optional.empty(), Duration.ofSeconds(180)));
            agent.joinCluster(new ClusterConfig(URI.create(serverUrl()), join, "n1", Map.of(), Optional.of(capacity)));
            assertThat(api("POST", "/v1/namespaces", Map.of("name", "alpha")).status()).isEqualTo(201);
            assertThat(api("POST", NS + "/fleets", Map.of("name", "app")).status()).isEqualTo(201);
        } catch (Exception | AssertionError e) {
            close();
            throw e;
        }
    }

    @Override
    public void close() throws Exception {
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
                registry.close();
            }
        }
    }

    /**
     * Pushes image {@code repository} (a repository and tag) whose workload counts in memory ({@code n=N pid=P} every
     * 200 ms), runs a machine {@code counter} of it in fleet {@code app} (1 vCPU, 128 MiB) and returns its id once it
     * runs and has counted to 3.
     */
    String startCounter(String repository) {
        String image = TestImages.push(registry, repository, ImageSpec.cmd("sh", "-c",
                "i=0; while true; do i=$((i+1)); echo n=$i pid=$$; sleep 0.2; done"));
        var created = api("POST", NS + "/fleets/app/machines", Map.of("name", "counter", "start", true,
                "config", Map.of("image", image, "guest", Map.of("cpus", 1, "memory_mb", 128))));
        assertThat(created.status()).as("%s", created).isEqualTo(201);
        String id = created.json().path("id").asString();
        waitFor(id, "running");
        await().atMost(Duration.ofSeconds(60)).until(() -> counts(logs(id)).size() >= 3);
        return id;
    }

    /** Waits (up to 240 s) until the machine is in {@code state}, asserting it did not fail. */
    void waitFor(String id, String state) {
        var r = api("GET", NS + "/machines/" + id + "/wait?state=" + state + ",failed&timeout_s=240", null);
        assertThat(r.status()).as("%s", r).isEqualTo(200);
        assertThat(r.json().path("state").asString()).as("%s", r).isEqualTo(state);
    }

    /** The machine's logs through the server. */
    String logs(String id) {
        var r = api("GET", NS + "/machines/" + id + "/logs", null);
        assertThat(r.status()).as("%s", r).isEqualTo(200);
        return r.body();
    }

    /** Each {@code n=N pid=P} line of the logs as {N, P}. */
    static List<long[]> counts(String logs) {
        List<long[]> out = new ArrayList<>();
        Matcher m = COUNT.matcher(logs);
        while (m.find()) out.add(new long[] {Long.parseLong(m.group(1)), Long.parseLong(m.group(2))});
        return out;
    }

    /** {@code bolero VERB --server … --token … -n alpha ARGS…} in its own process. */
    Run bolero(String... args) throws IOException, InterruptedException {
        return CliProcess.bolero(dir, "", arguments(args).toArray(String[]::new));
    }

    /** {@code bolero VERB --server … --token … -n alpha ARGS…} with {@code stdin} as its input. */
    Run boleroWithInput(String stdin, String... args) throws IOException, InterruptedException {
        return CliProcess.bolero(dir, stdin, arguments(args).toArray(String[]::new));
    }

    /** The arguments of {@code bolero VERB ARGS…} against this cluster: {@code VERB --server … ARGS…}. */
    List<String> arguments(String... args) {
        var all = new ArrayList<>(List.of(args[0], "--server", serverUrl(), "--token", admin, "-n", "alpha"));
        all.addAll(List.of(args).subList(1, args.length));
        return all;
    }

    /** A call to the server's API as the admin. */
    Response api(String method, String path, Object body) {
        return call(method, serverUrl() + path, admin, body);
    }

    /** A call to the node's own API. */
    Response local(String method, String path) {
        return call(method, "http://127.0.0.1:" + agent.port() + path, null, null);
    }

    private String serverUrl() {
        return "http://127.0.0.1:" + server.port();
    }
}
