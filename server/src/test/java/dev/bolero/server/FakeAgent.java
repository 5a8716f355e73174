package dev.bolero.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.SubmissionPublisher;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import tools.jackson.databind.JsonNode;

/**
 * A node that speaks the node protocol over HTTP without running anything: it joins, long-polls its assignments and
 * reports each assigned machine as being in its desired state (running, suspended, or else stopped); the test answers
 * its stream requests. The thing under test is the server, or (from the client and CLI modules' tests) a caller of
 * the server's relayed streams.
 */
public final class FakeAgent implements AutoCloseable {
    final String id;
    private final String credential;
    private final Http http;
    private final int cpus;
    private final long memoryMb;
    private final List<String> drivers;
    private final AtomicLong index = new AtomicLong();
    private volatile JsonNode assigned;
    private volatile Set<String> reportedRunning = Set.of();
    private volatile Thread beating;
    /** Its end of the private network ({@code public_key}, {@code endpoint}), or null when it takes no part. */
    private volatile Map<String, Object> link;
    /** The join answer's {@code private_network}: the plan and this node's index (missing when not a member). */
    final JsonNode privateNetwork;
    /** The private address it reports for a running machine by id, or null for the plan's addresses. */
    private volatile java.util.function.Function<String, String> addresses;
    private final Set<String> seenStreams = ConcurrentHashMap.newKeySet();
    /** Stream requests from the polls, each once, in the order they came. */
    final BlockingQueue<JsonNode> streams = new LinkedBlockingQueue<>();
    private static final HttpClient UPLOADS = HttpClient.newHttpClient();

    FakeAgent(Http http, String joinToken, String name, Map<String, String> labels, int cpus, long memoryMb) {
        this(http, joinToken, name, labels, cpus, memoryMb, List.of("qemu"));
    }

    /** A node that reports {@code drivers} in its join and heartbeats. */
    FakeAgent(Http http, String joinToken, String name, Map<String, String> labels, int cpus, long memoryMb,
              List<String> drivers) {
        this(http, joinToken, name, labels, cpus, memoryMb, drivers, null);
    }

    /**
     * A node that joins the private network with {@code link} ({@code public_key}, {@code endpoint}; null: it takes
     * no part) and reports its machines' private addresses: host offset 2, 3, … in the order of its assignments, in
     * the subnet of their namespace index on its node index (the default plan, 6/10/8 bits of 10.0.0.0/8).
     */
    FakeAgent(Http http, String joinToken, String name, Map<String, String> labels, int cpus, long memoryMb,
              List<String> drivers, Map<String, Object> link) {
        this.http = http;
        this.cpus = cpus;
        this.memoryMb = memoryMb;
        this.drivers = List.copyOf(drivers);
        this.link = link;
        var join = new LinkedHashMap<String, Object>(Map.of("name", name, "labels", labels,
                "drivers", drivers, "capacity", Map.of("cpus", cpus, "memory_mb", memoryMb)));
        if (link != null) join.put("private_network", link);
        var joined = http.post("/v1/nodes/join", joinToken, join);
        assertThat(joined.status()).as("join %s: %s", name, joined).isEqualTo(201);
        this.id = joined.json().path("node_id").asString();
        this.credential = joined.json().path("credential").asString();
        this.privateNetwork = joined.json().path("private_network");
    }

    /** Reports {@code link} as its end of the private network from the next heartbeat on (a new key or endpoint). */
    void link(Map<String, Object> link) {
        this.link = link;
    }

    /** Joins the server on {@code 127.0.0.1:port} as node {@code name} with 8 cpus and 16 GiB, no labels. */
    public static FakeAgent join(int port, String joinToken, String name) {
        return new FakeAgent(new Http(port), joinToken, name, Map.of(), 8, 16384);
    }

    /**
     * Reports {@code address.apply(id)} as each running machine's private address from the next heartbeat on, as a
     * node whose machines another test serves (on loopback addresses, say).
     */
    public FakeAgent reportAddresses(java.util.function.Function<String, String> address) {
        this.addresses = address;
        return this;
    }

    /** The node's id. */
    public String id() {
        return id;
    }

    /** The ids of the machines its last heartbeat reported running (as it was sent, whether or not it arrived). */
    Set<String> reportedRunning() {
        return reportedRunning;
    }

    /** One long poll from the last index seen. */
    JsonNode poll(int waitS) {
        var response = http.get("/v1/nodes/" + id + "/assignments?index=" + index.get() + "&wait_s=" + waitS,
                credential);
        assertThat(response.status()).as("poll %s: %s", id, response).isEqualTo(200);
        index.set(response.json().path("index").asLong());
        assigned = response.json().path("machines");
        for (JsonNode stream : response.json().path("streams")) {
            if (seenStreams.add(stream.path("id").asString())) streams.add(stream);
        }
        return response.json();
    }

    /** The machine ids in the node's current assignments (one immediate poll from index 0). */
    List<String> assignedIds() {
        var response = http.get("/v1/nodes/" + id + "/assignments?index=0&wait_s=0", credential);
        var ids = new ArrayList<String>();
        response.json().path("machines").forEach(m -> ids.add(m.path("id").asString()));
        return ids;
    }

    /** The node's current assignments, whole (one immediate poll from index 0). */
    JsonNode assignments() {
        return http.get("/v1/nodes/" + id + "/assignments?index=0&wait_s=0", credential).json();
    }

    /** Reports the last polled assignments, each in its desired state. */
    Http.Response heartbeat() {
        return http.post("/v1/nodes/" + id + "/heartbeat", credential, report());
    }

    /**
     * One long poll from the last index seen carrying the report {@link #heartbeat} sends; the answer whatever its
     * status, the index and assignments taken from a {@code 200}.
     */
    Http.Response reportAndPoll(int waitS) {
        var response = http.post("/v1/nodes/" + id + "/assignments?index=" + index.get() + "&wait_s=" + waitS,
                credential, report());
        if (response.status() == 200) {
            index.set(response.json().path("index").asLong());
            assigned = response.json().path("machines");
        }
        return response;
    }

    /** The report of the last polled assignments, each in its desired state. */
    private Map<String, Object> report() {
        var reports = new ArrayList<Map<String, Object>>();
        var runningIds = new java.util.HashSet<String>();
        if (assigned != null) {
            int host = 2;
            for (JsonNode m : assigned) {
                var report = new LinkedHashMap<String, Object>();
                report.put("id", m.path("id").asString());
                report.put("generation", m.path("generation").asLong());
                String desired = m.path("desired_state").asString();
                boolean running = desired.equals("running");
                if (running) runningIds.add(m.path("id").asString());
                report.put("state", running || desired.equals("suspended") ? desired : "stopped");
                var address = addresses;
                if (address != null && running) report.put("private_ip", address.apply(m.path("id").asString()));
                if (link != null && m.path("namespace_index").isNumber()) {
                    int node = privateNetwork.path("node_index").asInt();
                    int ns = m.path("namespace_index").asInt();
                    report.put("private_ip", "10." + (node << 2 | ns >> 8) + "." + (ns & 255) + "." + host++);
                }
                reports.add(report);
            }
        }
        reportedRunning = Set.copyOf(runningIds);
        var body = new LinkedHashMap<String, Object>(Map.of("capacity",
                Map.of("cpus", cpus, "memory_mb", memoryMb), "drivers", drivers, "machines", reports));
        if (link != null) body.put("private_network", link);
        return body;
    }

    /** A heartbeat reporting one machine in {@code state} with {@code error}, as an agent that could not create it. */
    Http.Response report(String machineId, long generation, String state, String error) {
        var report = new LinkedHashMap<String, Object>();
        report.put("id", machineId);
        report.put("generation", generation);
        report.put("state", state);
        report.put("error", error);
        return report(List.of(report));
    }

    /** A heartbeat reporting {@code machines} (the wire's machine reports) and nothing else of its assignments. */
    Http.Response report(List<Map<String, Object>> machines) {
        return http.post("/v1/nodes/" + id + "/heartbeat", credential, Map.of("capacity",
                Map.of("cpus", cpus, "memory_mb", memoryMb), "drivers", drivers, "machines", machines));
    }

    /** Reports pass {@code pass} of volume move {@code moveId} verified, as its target does once it applied it. */
    Http.Response reportMovePass(String moveId, int pass) {
        return http.post("/v1/nodes/" + id + "/volume-moves/" + moveId, credential, Map.of("pass", pass, "blocks", 1,
                "bytes", 4096, "digest", "sha256-of-pass-" + pass));
    }

    /** Polls and heartbeats in the background, as a live agent does, until {@link #silence()}. */
    public FakeAgent live() {
        beating = Thread.ofVirtual().name("fake-agent-" + id).start(() -> {
            while (!Thread.currentThread().isInterrupted()) {
                try {
                    poll(0);
                    heartbeat();
                    Thread.sleep(300);
                } catch (InterruptedException e) {
                    return;
                } catch (RuntimeException | AssertionError e) {
                    if (Thread.currentThread().isInterrupted()) return;
                }
            }
        });
        return this;
    }

    /** Stops heartbeating, as a lost node does. */
    public void silence() throws InterruptedException {
        Thread t = beating;
        if (t != null) {
            t.interrupt();
            t.join();
        }
        beating = null;
    }

    /** The next stream request a poll brought, waiting for it up to 30 s. */
    public JsonNode nextStream() throws InterruptedException {
        JsonNode stream = streams.poll(30, TimeUnit.SECONDS);
        assertThat(stream).as("a stream request for node %s within 30 s", id).isNotNull();
        return stream;
    }

    /**
     * Answers a stream request as an agent does: the node API's {@code status} and {@code contentType}, then
     * {@code body} sent as it is read. Completes when the server ends the request.
     */
    public CompletableFuture<HttpResponse<String>> answer(JsonNode stream, int status, String contentType, InputStream body) {
        var publisher = new SubmissionPublisher<ByteBuffer>();
        var subscribed = new CompletableFuture<Void>();
        var request = HttpRequest.newBuilder(URI.create(stream.path("server").asString()
                        + "/v1/nodes/" + id + "/streams/" + stream.path("id").asString()))
                .header("Authorization", "Bearer " + credential)
                .header("Bolero-Status", Integer.toString(status))
                .header("Content-Type", contentType)
                .POST(HttpRequest.BodyPublishers.fromPublisher(subscriber -> {
                    publisher.subscribe(subscriber);
                    subscribed.complete(null);
                }))
                .build();
        var sent = UPLOADS.sendAsync(request, HttpResponse.BodyHandlers.ofString());
        // Pushed as read, as the agent does (the client's InputStream publisher holds the last chunk back).
        Thread.ofVirtual().start(() -> {
            try (publisher) {
                CompletableFuture.anyOf(subscribed, sent).join();
                byte[] buffer = new byte[8192];
                for (int n; (n = body.read(buffer)) >= 0; ) {
                    if (n > 0) publisher.submit(ByteBuffer.wrap(Arrays.copyOf(buffer, n)));
                }
            } catch (IOException | RuntimeException e) {
                publisher.closeExceptionally(e);
            }
        });
        sent.whenComplete((response, failure) -> {
            try {
                body.close();
            } catch (IOException e) {
                // over either way
            }
        });
        return sent;
    }

    /**
     * Answers an {@code exec_ws} stream request as an agent does: opens the server's end of the relay, whose messages
     * go to {@code listener}; the test plays the node API's exec socket on the returned socket.
     */
    public WebSocket answerSocket(JsonNode stream, WebSocket.Listener listener) throws Exception {
        return UPLOADS.newWebSocketBuilder().header("Authorization", "Bearer " + credential)
                .buildAsync(URI.create(stream.path("server").asString().replaceFirst("^http", "ws") + "/v1/nodes/"
                        + id + "/streams/" + stream.path("id").asString()), listener)
                .get(30, TimeUnit.SECONDS);
    }

    @Override
    public void close() throws InterruptedException {
        silence();
    }
}
