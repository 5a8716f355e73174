package dev.bolero.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import tools.jackson.databind.JsonNode;

/**
 * An agent in a JVM of its own ({@link AgentProcessMain}) on a data directory, for tests that kill it with
 * {@code kill -9} and start another on the same directory; they talk to it over HTTP. {@link #close()} deletes every
 * machine (through a new agent if none runs) and kills the agent and whatever process of the directory is left.
 */
final class KillableAgent implements AutoCloseable {
    private final Path dataDir;
    private final HttpClient http = HttpClient.newHttpClient();
    private Process process;
    private int port;

    KillableAgent(Path dataDir) {
        this.dataDir = dataDir;
    }

    /** Starts an agent on the data directory and waits until it listens; its output goes to {@code agent.out}. */
    void start() throws Exception {
        Path portFile = dataDir.resolve("port-" + System.nanoTime());
        String java = ProcessHandle.current().info().command().orElse("java");
        process = new ProcessBuilder(java, "--enable-native-access=ALL-UNNAMED", "-cp",
                System.getProperty("java.class.path"), AgentProcessMain.class.getName(), dataDir.toString(),
                portFile.toString())
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(dataDir.resolve("agent.out").toFile()))
                .start();
        await().atMost(Duration.ofSeconds(60)).until(() -> Files.exists(portFile) || !process.isAlive());
        assertThat(process.isAlive()).as("agent started: %s", Files.readString(dataDir.resolve("agent.out"))).isTrue();
        port = Integer.parseInt(Files.readString(portFile));
        Files.delete(portFile);
    }

    /** {@code kill -9} of the agent; returns once it is gone. */
    void kill() throws InterruptedException {
        process.destroyForcibly().waitFor();
    }

    /** Creates and starts a machine of {@code image} (128 MiB) running {@code cmdJson}; returns its id. */
    String create(String image, String name, String cmdJson) {
        AgentHarness.Response r = post("/api/v1/machines", "{\"name\": \"" + name + "\", \"start\": true, \"config\": "
                + "{\"image\": \"" + image + "\", \"guest\": {\"memory_mb\": 128}, \"init\": {\"cmd\": " + cmdJson + "}}}");
        assertThat(r.status()).as(r.body()).isEqualTo(201);
        return r.json().path("id").asString();
    }

    /** Waits up to 300 s for the machine to be in {@code state} (failing at once if it fails). */
    void waitFor(String id, String state) {
        AgentHarness.Response r = get("/api/v1/machines/" + id + "/wait?state=" + state + ",failed&timeout_s=300");
        assertThat(r.json().path("state").asString()).as(r.body()).isEqualTo(state);
    }

    String logs(String id) {
        return get("/api/v1/machines/" + id + "/logs").body();
    }

    AgentHarness.Response post(String path, String json) {
        return send(HttpRequest.newBuilder(uri(path)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(json)));
    }

    AgentHarness.Response get(String path) {
        return send(HttpRequest.newBuilder(uri(path)).GET());
    }

    AgentHarness.Response delete(String path) {
        return send(HttpRequest.newBuilder(uri(path)).DELETE());
    }

    @Override
    public void close() throws Exception {
        try {
            if (process == null || !process.isAlive()) start();
            for (JsonNode m : get("/api/v1/machines").json()) {
                delete("/api/v1/machines/" + m.path("id").asString() + "?force=true");
            }
        } finally {
            if (process != null) process.destroyForcibly().waitFor();
            for (long pid : AgentHarness.processesMentioning(dataDir.toString())) {
                ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
            }
        }
    }

    private URI uri(String path) {
        return URI.create("http://127.0.0.1:" + port + path);
    }

    private AgentHarness.Response send(HttpRequest.Builder request) {
        return AgentHarness.exchange(http, request, port);
    }
}
