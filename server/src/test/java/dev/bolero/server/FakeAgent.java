package dev.bolero.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import tools.jackson.databind.JsonNode;

/**
 * A node that speaks the node protocol over HTTP without running anything: it joins, long-polls its assignments and
 * reports each assigned machine as being in its desired state. The thing under test is the server.
 */
final class FakeAgent implements AutoCloseable {
    final String id;
    private final String credential;
    private final Http http;
    private final int cpus;
    private final long memoryMb;
    private final AtomicLong index = new AtomicLong();
    private volatile JsonNode assigned;
    private volatile Thread beating;

    FakeAgent(Http http, String joinToken, String name, Map<String, String> labels, int cpus, long memoryMb) {
        this.http = http;
        this.cpus = cpus;
        this.memoryMb = memoryMb;
        var joined = http.post("/v1/nodes/join", joinToken, Map.of("name", name, "labels", labels,
                "drivers", List.of("qemu"), "capacity", Map.of("cpus", cpus, "memory_mb", memoryMb)));
        assertThat(joined.status()).as("join %s: %s", name, joined).isEqualTo(201);
        this.id = joined.json().path("node_id").asString();
        this.credential = joined.json().path("credential").asString();
    }

    /** One long poll from the last index seen. */
    JsonNode poll(int waitS) {
        var response = http.get("/v1/nodes/" + id + "/assignments?index=" + index.get() + "&wait_s=" + waitS,
                credential);
        assertThat(response.status()).as("poll %s: %s", id, response).isEqualTo(200);
        index.set(response.json().path("index").asLong());
        assigned = response.json().path("machines");
        return response.json();
    }

    /** The machine ids in the node's current assignments (one immediate poll from index 0). */
    List<String> assignedIds() {
        var response = http.get("/v1/nodes/" + id + "/assignments?index=0&wait_s=0", credential);
        var ids = new ArrayList<String>();
        response.json().path("machines").forEach(m -> ids.add(m.path("id").asString()));
        return ids;
    }

    /** Reports the last polled assignments, each in its desired state. */
    Http.Response heartbeat() {
        var reports = new ArrayList<Map<String, Object>>();
        if (assigned != null) {
            for (JsonNode m : assigned) {
                var report = new LinkedHashMap<String, Object>();
                report.put("id", m.path("id").asString());
                report.put("generation", m.path("generation").asLong());
                report.put("state", m.path("desired_state").asString().equals("running") ? "running" : "stopped");
                reports.add(report);
            }
        }
        return http.post("/v1/nodes/" + id + "/heartbeat", credential, Map.of("capacity",
                Map.of("cpus", cpus, "memory_mb", memoryMb), "drivers", List.of("qemu"), "machines", reports));
    }

    /** Polls and heartbeats in the background, as a live agent does, until {@link #silence()}. */
    FakeAgent live() {
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
    void silence() throws InterruptedException {
        Thread t = beating;
        if (t != null) {
            t.interrupt();
            t.join();
        }
        beating = null;
    }

    String credential() {
        return credential;
    }

    @Override
    public void close() throws InterruptedException {
        silence();
    }
}
