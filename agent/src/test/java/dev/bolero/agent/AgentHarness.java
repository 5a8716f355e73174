package dev.bolero.agent;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bolero.api.ApiJson;
import dev.bolero.api.testing.ApiContract;
import dev.bolero.network.NetworkConfig;
import dev.bolero.runtime.qemu.QemuDriver;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;
import tools.jackson.databind.JsonNode;

/**
 * A real node agent on a temporary data directory and a free loopback port, with a small HTTP client for tests.
 * {@link #close()} force-deletes every machine the agent still has, so no VMM outlives a test.
 *
 * <p>Every answer the client receives is checked against the document the agent serves at
 * {@code /api/v1/openapi.json} ({@link ApiContract}): one the document does not describe fails the test.
 */
final class AgentHarness implements AutoCloseable {
    /** The boot deadline of an agent made without one: long enough for any TCG boot on a busy host. */
    static final Duration BOOT_DEADLINE = Duration.ofSeconds(180);

    final Path dataDir;
    private final Set<String> insecure;
    private final Optional<NetworkConfig> network;
    private final Duration bootDeadline;
    private Agent agent;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    AgentHarness(Path dataDir, Set<String> insecure) {
        this(dataDir, insecure, Optional.empty());
    }

    /** An agent whose machines are attached to {@code network} (none when empty). */
    AgentHarness(Path dataDir, Set<String> insecure, Optional<NetworkConfig> network) {
        this(dataDir, insecure, network, BOOT_DEADLINE);
    }

    /** An agent whose guests must start their workload within {@code bootDeadline}. */
    AgentHarness(Path dataDir, Set<String> insecure, Optional<NetworkConfig> network, Duration bootDeadline) {
        this.dataDir = dataDir;
        this.insecure = insecure;
        this.network = network;
        this.bootDeadline = bootDeadline;
        start();
    }

    /** Starts (again) an agent on the same data directory. */
    void start() {
        agent = Agent.start(new AgentConfig("127.0.0.1", 0, dataDir, insecure, QemuDriver.Accel.AUTO, Optional.empty(),
                bootDeadline).withNetwork(network));
    }

    /** Stops the agent without touching its machines, as an agent restart does. */
    void stopAgent() {
        agent.close();
        agent = null;
    }

    record Response(int status, String body, java.net.http.HttpHeaders headers) {
        JsonNode json() {
            return ApiJson.mapper().readTree(body);
        }

        String errorCode() {
            return json().path("error").path("code").asString();
        }

        String errorMessage() {
            return json().path("error").path("message").asString();
        }
    }

    Response post(String path, String json) {
        return post(path, json, "application/json");
    }

    /** A POST of {@code body} as {@code contentType}. */
    Response post(String path, String body, String contentType) {
        return send(HttpRequest.newBuilder(uri(path)).header("Content-Type", contentType)
                .POST(HttpRequest.BodyPublishers.ofString(body)));
    }

    /** A request of any method, with a JSON body or none (null). */
    Response send(String method, String path, String json) {
        return send(HttpRequest.newBuilder(uri(path)).header("Content-Type", "application/json")
                .method(method, json == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(json)));
    }

    Response get(String path) {
        return send(HttpRequest.newBuilder(uri(path)).GET());
    }

    Response delete(String path) {
        return send(HttpRequest.newBuilder(uri(path)).DELETE());
    }

    /** Creates a machine and returns its id, asserting 201. */
    String create(String json) {
        Response r = post("/api/v1/machines", json);
        assertThat(r.status()).as(r.body()).isEqualTo(201);
        return r.json().path("id").asString();
    }

    /** Waits for a machine to reach {@code state} (or fail) and returns it, asserting it reached {@code state}. */
    JsonNode waitFor(String id, String state, int timeoutSeconds) {
        Response r = get("/api/v1/machines/" + id + "/wait?state=" + state + ",failed&timeout_s=" + timeoutSeconds);
        assertThat(r.status()).as("wait for %s to be %s: %s (console: %s)", id, state, r.body(), console(id))
                .isEqualTo(200);
        assertThat(r.json().path("state").asString()).as("state of %s: %s (console: %s)", id, r.body(), console(id))
                .isEqualTo(state);
        return r.json();
    }

    /** Runs a command in machine {@code id} through {@code POST /exec} and returns the result, asserting 200. */
    JsonNode exec(String id, String body) {
        Response r = post("/api/v1/machines/" + id + "/exec", body);
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        return r.json();
    }

    String logs(String id) {
        return get("/api/v1/machines/" + id + "/logs").body();
    }

    String console(String id) {
        Response r = get("/api/v1/machines/" + id + "/logs?source=console");
        String body = r.body();
        return body.length() > 3000 ? body.substring(body.length() - 3000) : body;
    }

    /**
     * Pids of live processes whose command line mentions {@code needle}, and their descendants (a jailed VMM's
     * command line names only paths inside its jail).
     */
    static List<Long> processesMentioning(String needle) {
        java.util.Map<Long, Long> parents = new java.util.HashMap<>();
        java.util.Set<Long> found = new java.util.TreeSet<>();
        try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
            for (Path p : procs.filter(p -> p.getFileName().toString().chars().allMatch(Character::isDigit)).toList()) {
                long pid = Long.parseLong(p.getFileName().toString());
                try {
                    String stat = Files.readString(p.resolve("stat"));
                    parents.put(pid, Long.parseLong(stat.substring(stat.lastIndexOf(')') + 2).split(" ")[1]));
                    String cmd = new String(Files.readAllBytes(p.resolve("cmdline")), StandardCharsets.UTF_8);
                    if (cmd.contains(needle) && !cmd.contains("surefire")) found.add(pid);
                } catch (IOException e) {
                    // the process is gone
                }
            }
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        boolean grew = true;
        while (grew) {
            grew = false;
            for (var e : parents.entrySet()) {
                if (found.contains(e.getValue()) && found.add(e.getKey())) grew = true;
            }
        }
        return List.copyOf(found);
    }

    private Response send(HttpRequest.Builder request) {
        return exchange(http, request, agent.port());
    }

    /**
     * Sends {@code request} to the agent on {@code port} and returns its answer, after checking it against the
     * document the agent serves.
     */
    static Response exchange(HttpClient http, HttpRequest.Builder request, int port) {
        try {
            HttpRequest sent = request.timeout(Duration.ofMinutes(5)).build();
            HttpResponse<String> r = http.send(sent, HttpResponse.BodyHandlers.ofString());
            ApiContract.check("http://127.0.0.1:" + port + "/api/v1/openapi.json", sent.method(),
                    sent.uri().getRawPath(), r.statusCode(), r.headers().firstValue("Content-Type").orElse(null),
                    r.body());
            return new Response(r.statusCode(), r.body(), r.headers());
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** The agent's port on 127.0.0.1. */
    int port() {
        return agent.port();
    }

    private URI uri(String path) {
        return URI.create("http://127.0.0.1:" + agent.port() + path);
    }

    @Override
    public void close() {
        if (agent == null) start();
        try {
            for (JsonNode m : get("/api/v1/machines").json()) {
                delete("/api/v1/machines/" + m.path("id").asString() + "?force=true");
            }
        } finally {
            agent.close();
        }
    }
}
