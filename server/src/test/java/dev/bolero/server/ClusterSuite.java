package dev.bolero.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.bolero.api.ApiJson;
import dev.bolero.api.wire.Heartbeat;
import dev.bolero.server.cluster.NodeRegistry;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PipedInputStream;
import java.io.PipedOutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

/**
 * The control plane's behaviour through its HTTP API, against a real server on a free port and fake agents speaking
 * the node protocol. Subclasses pick the database.
 */
abstract class ClusterSuite {
    static final String ADMIN = "admin-token-for-tests-0123456789";
    static final String JOIN = "join-token-for-tests-0123456789";
    /** Short clocks so node loss shows within seconds: heartbeat 1 s, fence 2 s, down 3 s, loops every 200 ms. */
    static final NodeRegistry.Timing TIMING =
            new NodeRegistry.Timing(Duration.ofSeconds(1), Duration.ofSeconds(3), Duration.ofSeconds(2));

    /** How long a stream request waits for its agent here. */
    static final Duration STREAM_PICKUP = Duration.ofSeconds(2);

    @TempDir
    Path dataDir;
    Optional<String> db;
    Server server;
    Http http;
    final List<FakeAgent> agents = new ArrayList<>();

    /** A fresh database URL, or empty for SQLite in the data directory. */
    abstract Optional<String> database() throws Exception;

    static ServerConfig config(Path dataDir, Optional<String> database) {
        return config(dataDir, database, 0);
    }

    /** The test server's config listening on {@code port} (0: any free one). */
    static ServerConfig config(Path dataDir, Optional<String> database, int port) {
        var config = ServerConfig.of("127.0.0.1", port, dataDir)
                .withTokens(Optional.of(ADMIN), Optional.of(JOIN))
                .withTiming(TIMING, Duration.ofMillis(200))
                .withStreamPickup(STREAM_PICKUP);
        return database.map(config::withDatabase).orElse(config);
    }

    @BeforeEach
    void startServer() throws Exception {
        db = database();
        server = Server.start(config(dataDir, db));
        http = new Http(server.port());
    }

    @AfterEach
    void stopServer() throws Exception {
        for (FakeAgent agent : agents) agent.close();
        if (server != null) server.close();
    }

    FakeAgent agent(String name, Map<String, String> labels, int cpus, long memoryMb) {
        return agent(new FakeAgent(http, JOIN, name, labels, cpus, memoryMb));
    }

    /** A node of the private network (4 CPUs, 8 GiB, QEMU) whose link is {@link #link}{@code (n, port)}. */
    FakeAgent member(String name, int n, int port) {
        return agent(new FakeAgent(http, JOIN, name, Map.of(), 4, 8192, List.of("qemu"), link(n, port)));
    }

    FakeAgent agent(FakeAgent agent) {
        agents.add(agent);
        return agent;
    }

    void namespace(String name) {
        assertThat(http.post("/v1/namespaces", ADMIN, Map.of("name", name)).status()).isEqualTo(201);
    }

    void fleet(String ns, String name, String strategy) {
        var created = http.post("/v1/namespaces/" + ns + "/fleets", ADMIN, Map.of("name", name, "strategy", strategy));
        assertThat(created.status()).as("%s", created).isEqualTo(201);
    }

    JsonNode machine(String ns, String fleet, String token, Map<String, Object> spec) {
        var created = createMachine("/v1/namespaces/" + ns + "/fleets/" + fleet + "/machines", token, spec);
        assertThat(created.status()).as("%s", created).isEqualTo(201);
        return created.json();
    }

    /** The spec's fields of a create body: they go in its {@code config}; the rest stays at the top. */
    static final java.util.Set<String> SPEC_FIELDS = java.util.Set.of("image", "guest", "init", "env", "restart",
            "auto_destroy", "stop", "network", "services", "driver", "metadata", "mounts");

    /** Posts a machine create whose body is {@code flat} with its spec fields moved into {@code config}. */
    Http.Response createMachine(String path, String token, Map<String, Object> flat) {
        return http.post(path, token, createBody(flat));
    }

    /** A create body: {@code flat} with its spec fields moved into {@code config}. */
    static Map<String, Object> createBody(Map<String, Object> flat) {
        var body = new java.util.LinkedHashMap<String, Object>();
        var config = new java.util.LinkedHashMap<String, Object>();
        flat.forEach((k, v) -> (SPEC_FIELDS.contains(k) ? config : body).put(k, v));
        if (!config.isEmpty()) body.put("config", config);
        return body;
    }

    static Map<String, Object> small(String name) {
        return Map.of("name", name, "image", "busybox", "start", true,
                "guest", Map.of("cpus", 1, "memory_mb", 512));
    }

    @Test
    void aNamespaceTokenSeesOnlyItsNamespaceGets404ForOtherTenantsObjectsAnd403OnAdminRoutes() {
        namespace("alpha");
        namespace("beta");
        fleet("beta", "web", "spread");
        agent("n1", Map.of(), 8, 16384).live();
        String betaMachine = machine("beta", "web", ADMIN, small("b1")).path("id").asString();
        var token = http.post("/v1/namespaces/alpha/tokens", ADMIN, null);
        assertThat(token.status()).isEqualTo(201);
        String alpha = token.json().path("token").asString();
        assertThat(alpha).hasSizeGreaterThanOrEqualTo(43);

        assertThat(http.post("/v1/namespaces/alpha/fleets", alpha, Map.of("name", "api")).status()).isEqualTo(201);
        assertThat(http.get("/v1/namespaces/alpha/fleets/api", alpha).status()).isEqualTo(200);
        var listed = http.get("/v1/namespaces", alpha).json();
        assertThat(listed).hasSize(1);
        assertThat(listed.get(0).path("name").asString()).isEqualTo("alpha");

        var foreign = http.get("/v1/namespaces/beta/fleets", alpha);
        var absent = http.get("/v1/namespaces/gamma/fleets", alpha);
        assertThat(foreign.status()).isEqualTo(404);
        assertThat(absent.status()).isEqualTo(404);
        assertThat(foreign.body().replace("beta", "X")).isEqualTo(absent.body().replace("gamma", "X"));
        assertThat(http.get("/v1/namespaces/beta/machines/" + betaMachine, alpha).status()).isEqualTo(404);
        assertThat(http.get("/v1/namespaces/alpha/machines/" + betaMachine, alpha).status()).isEqualTo(404);
        assertThat(http.delete("/v1/namespaces/beta/machines/" + betaMachine, alpha).status()).isEqualTo(404);
        assertThat(createMachine("/v1/namespaces/beta/fleets/web/machines", alpha, small("x")).status()).isEqualTo(404);
        for (var adminOnly : List.of(http.get("/v1/nodes", alpha), http.get("/v1/nodes/n1", alpha),
                http.post("/v1/nodes/n1/drain", alpha, null), http.get("/v1/status", alpha),
                http.post("/v1/namespaces/alpha/tokens", alpha, null),
                http.post("/v1/namespaces", alpha, Map.of("name", "delta")))) {
            assertThat(adminOnly.status()).as("%s", adminOnly).isEqualTo(403);
            assertThat(adminOnly.errorCode()).isEqualTo("permission_denied");
        }

        assertThat(http.get("/v1/namespaces/beta/machines/" + betaMachine, ADMIN).status()).isEqualTo(200);
        var none = http.get("/v1/namespaces/alpha/fleets", null);
        assertThat(none.status()).isEqualTo(401);
        assertThat(none.errorCode()).isEqualTo("unauthenticated");
        assertThat(http.get("/v1/namespaces/alpha/fleets", "not-a-token").status()).isEqualTo(401);
        assertThat(http.get("/v1/nodes", JOIN).status()).isEqualTo(403);
    }

    @Test
    void binpackFillsOneNodeAndSpreadUsesEveryNode() {
        namespace("alpha");
        var packedByDefault = http.post("/v1/namespaces/alpha/fleets", ADMIN, Map.of("name", "packed"));
        assertThat(packedByDefault.status()).as("%s", packedByDefault).isEqualTo(201);
        assertThat(packedByDefault.json().path("strategy").asString()).as("the default strategy").isEqualTo("binpack");
        fleet("alpha", "spread", "spread");
        for (String n : List.of("n1", "n2", "n3")) agent(n, Map.of("region", "eu"), 4, 8192).live();

        var packed = new HashSet<String>();
        var spread = new HashSet<String>();
        for (int i = 0; i < 3; i++) {
            packed.add(machine("alpha", "packed", ADMIN, small("p" + i)).path("node_id").asString());
        }
        for (int i = 0; i < 3; i++) {
            spread.add(machine("alpha", "spread", ADMIN, small("s" + i)).path("node_id").asString());
        }
        assertThat(packed).hasSize(1);
        assertThat(spread).hasSize(3);

        var nodes = http.get("/v1/nodes", ADMIN).json();
        int cpus = 0;
        for (JsonNode n : nodes) {
            assertThat(n.path("state").asString()).isEqualTo("ready");
            cpus += n.path("allocated").path("cpus").asInt();
        }
        assertThat(cpus).isEqualTo(6);

        var refused = createMachine("/v1/namespaces/alpha/fleets/spread/machines", ADMIN,
                Map.of("image", "busybox", "guest", Map.of("cpus", 2, "memory_mb", 512), "region", "us"));
        assertThat(refused.status()).isEqualTo(400);
        assertThat(refused.errorCode()).isEqualTo("failed_precondition");
        assertThat(refused.json().path("error").path("message").asString()).contains("no nodes in region us");
    }

    @Test
    void aVolumeLivesOnItsFirstMachinesNodeServesOneMachineAtATimeGrowsAndOutlivesItsMachines() {
        namespace("alpha");
        fleet("alpha", "db", "spread");
        var nodes = Map.of(agent("n1", Map.of(), 8, 16384).live().id(), agents.get(0),
                agent("n2", Map.of(), 8, 16384).live().id(), agents.get(1));
        String volumes = "/v1/namespaces/alpha/volumes";
        var created = http.post(volumes, ADMIN, Map.of("name", "data", "size_gb", 1));
        assertThat(created.status()).as("%s", created).isEqualTo(201);
        assertThat(created.json().path("id").asString()).startsWith("vol_");
        assertThat(created.json().path("node_id").isNull()).as("on no node before a machine mounts it").isTrue();
        assertThat(http.post(volumes, ADMIN, Map.of("name", "data", "size_gb", 2)).errorCode()).isEqualTo("conflict");
        assertThat(http.post(volumes, ADMIN, Map.of("name", "data", "size_gb", 0)).body())
                .contains("size_gb must be between 1 and 16384, got 0");

        var first = machine("alpha", "db", ADMIN, mounting("m1", "data"));
        String node = first.path("node_id").asString();
        var attached = http.get(volumes + "/data", ADMIN).json();
        assertThat(attached.path("node_id").asString()).isEqualTo(node);
        assertThat(attached.path("machine_id").asString()).isEqualTo(first.path("id").asString());

        var second = createMachine("/v1/namespaces/alpha/fleets/db/machines", ADMIN, mounting("m2", "data"));
        assertThat(second.errorCode()).as("%s", second).isEqualTo("conflict");
        assertThat(second.body()).contains("volume data is attached to machine " + first.path("id").asString());
        var missing = createMachine("/v1/namespaces/alpha/fleets/db/machines", ADMIN, mounting("m2", "nope"));
        assertThat(missing.errorCode()).isEqualTo("invalid_argument");
        assertThat(missing.body()).contains("config.mounts[0].volume: no volume nope in namespace alpha");
        assertThat(http.delete(volumes + "/data", ADMIN).errorCode()).as("attached").isEqualTo("conflict");
        var attachedSnapshot = http.post(volumes + "/data/snapshots", ADMIN, null);
        assertThat(attachedSnapshot.status()).as("of an attached volume (its guest freezes it): %s", attachedSnapshot)
                .isEqualTo(201);

        var grown = http.put(volumes + "/data/extend", ADMIN, Map.of("size_gb", 3));
        assertThat(grown.status()).as("%s", grown).isEqualTo(200);
        assertThat(grown.json().path("size_gb").asInt()).isEqualTo(3);
        assertThat(http.put(volumes + "/data/extend", ADMIN, Map.of("size_gb", 2)).body())
                .contains("a volume only grows, it has 3 GiB");
        var onNode = nodes.get(node).assignments().path("volumes");
        assertThat(onNode).hasSize(1);
        assertThat(onNode.get(0).path("name").asString()).isEqualTo("data");
        assertThat(onNode.get(0).path("size_gb").asInt()).isEqualTo(3);

        assertThat(http.delete("/v1/namespaces/alpha/machines/" + first.path("id").asString(), ADMIN).status())
                .isEqualTo(204);
        await().atMost(Duration.ofSeconds(30)).until(() -> http.get(volumes + "/data", ADMIN).json()
                .path("machine_id").isNull());
        for (int i = 0; i < 3; i++) {
            var next = machine("alpha", "db", ADMIN, mounting("again-" + i, "data"));
            assertThat(next.path("node_id").asString()).as("the volume's node").isEqualTo(node);
            assertThat(http.delete("/v1/namespaces/alpha/machines/" + next.path("id").asString(), ADMIN).status())
                    .isEqualTo(204);
            await().atMost(Duration.ofSeconds(30)).until(() -> http.get(volumes + "/data", ADMIN).json()
                    .path("machine_id").isNull());
        }

        assertThat(http.post(volumes + "/data/snapshots", ADMIN, Map.of("keep", 0)).body())
                .contains("keep: must be 1 to 100, got 0");
        var snapshot = http.post(volumes + "/data/snapshots", ADMIN, Map.of("keep", 1));
        assertThat(snapshot.status()).as("%s", snapshot).isEqualTo(201);
        String snapshotId = snapshot.json().path("id").asString();
        assertThat(snapshot.json().path("node_id").asString()).isEqualTo(node);
        var kept = http.get(volumes + "/data/snapshots", ADMIN).json();
        assertThat(kept).as("the newest one kept, the older deleted").hasSize(1);
        assertThat(kept.get(0).path("id").asString()).isEqualTo(snapshotId);
        var snapshots = new ArrayList<>(List.of(snapshotId));
        for (int i = 0; i < 2; i++) {
            snapshots.add(http.post(volumes + "/data/snapshots", ADMIN, null).json().path("id").asString());
        }
        assertThat(allPages(volumes + "/data/snapshots?", 2, "id", null)).as("by id, page by page")
                .containsExactlyElementsOf(snapshots.stream().sorted().toList());
        assertThat(allPages(volumes + "/data/moves?", 1, "id", null)).isEmpty();
        assertRefuseBadPages(List.of(volumes + "/data/snapshots", volumes + "/data/moves"));
        assertThat(http.post(volumes, ADMIN, Map.of("name", "copy", "size_gb", 2, "snapshot", snapshotId)).body())
                .contains("holds 3 GiB, more than size_gb 2");
        var restored = http.post(volumes, ADMIN, Map.of("name", "copy", "size_gb", 4, "snapshot", snapshotId));
        assertThat(restored.status()).as("%s", restored).isEqualTo(201);
        assertThat(restored.json().path("node_id").asString()).as("the snapshot's node").isEqualTo(node);
        var listed = new java.util.HashMap<String, JsonNode>();
        nodes.get(node).assignments().path("volumes").forEach(v -> listed.put(v.path("name").asString(), v));
        assertThat(listed.get("data").path("snapshots")).extracting(JsonNode::asString).contains(snapshotId);
        assertThat(listed.get("copy").path("source").asString()).isEqualTo(snapshotId);
        assertThat(http.post(volumes, ADMIN, Map.of("name", "empty", "size_gb", 1)).status()).isEqualTo(201);
        assertThat(http.post(volumes + "/empty/snapshots", ADMIN, null).body()).contains("it lives on no node yet");

        for (String v : List.of("data", "copy", "empty")) {
            assertThat(http.delete(volumes + "/" + v, ADMIN).status()).isEqualTo(204);
        }
        assertThat(http.get(volumes, ADMIN).json()).isEmpty();
        assertThat(nodes.get(node).assignments().path("volumes")).isEmpty();
    }

    /** A small machine's create mounting {@code volume} at {@code /data}. */
    @Test
    void aVolumeMoveIsDoneOnceItsMachineFollowedAndOneWhoseDriverWentAwayIsTakenOver() throws Exception {
        namespace("alpha");
        fleet("alpha", "db", "spread");
        var nodes = Map.of(agent("n1", Map.of(), 8, 16384).live().id(), agents.get(0),
                agent("n2", Map.of(), 8, 16384).live().id(), agents.get(1));
        String volumes = "/v1/namespaces/alpha/volumes";
        assertThat(http.post(volumes, ADMIN, Map.of("name", "data", "size_gb", 1)).status()).isEqualTo(201);
        var machine = machine("alpha", "db", ADMIN, mounting("m1", "data"));
        String id = machine.path("id").asString();
        String from = machine.path("node_id").asString();
        String to = nodes.keySet().stream().filter(n -> !n.equals(from)).findFirst().orElseThrow();
        awaitMachineState(id, "running");

        var moving = http.post(volumes + "/data/move", ADMIN, Map.of());
        assertThat(moving.status()).as("%s", moving).isEqualTo(202);
        String moveId = moving.json().path("id").asString();
        assertThat(moving.json().path("to_node").asString()).isEqualTo(to);
        await().atMost(Duration.ofSeconds(10)).until(() -> nodes.get(to).reportMovePass(moveId, 1).status() == 200);
        await().atMost(Duration.ofSeconds(30)).until(() -> volumeMove(moveId).path("state").asString()
                .equals("final_pass"));
        assertThat(machineState(id)).as("stopped for the final pass").isEqualTo("stopped");
        assertThat(nodes.get(to).reportMovePass(moveId, 2).status()).isEqualTo(200);
        var seen = new java.util.LinkedHashSet<String>();
        JsonNode done = await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(10)).until(() -> {
            JsonNode m = volumeMove(moveId);
            seen.add(m.path("state").asString());
            return m;
        }, m -> m.path("state").asString().equals("done"));
        assertThat(done.path("steps").toString()).as("done only once its machine followed (states seen: %s)", seen)
                .contains("recorded on node " + to, "machine " + id + " moved to node " + to,
                        "machine " + id + " started on node " + to);
        assertThat(http.get("/v1/namespaces/alpha/machines/" + id, ADMIN).json().path("node_id").asString())
                .isEqualTo(to);
        awaitMachineState(id, "running");

        // A move whose driver went away just after it recorded the volume on its new node (from, this time), the
        // machine it stopped still on its old one: as the driver left it, last marked as driven three minutes ago.
        assertThat(http.post("/v1/namespaces/alpha/machines/" + id + "/stop", ADMIN, null).status()).isEqualTo(200);
        awaitMachineState(id, "stopped");
        long now = System.currentTimeMillis();
        try (var raw = rawConnection(); var update = raw.prepareStatement("UPDATE volumes SET node_id = ? "
                + "WHERE namespace = 'alpha' AND name = 'data'"); var insert = raw.prepareStatement("INSERT INTO "
                + "volume_moves (id, namespace, volume, volume_id, from_node, to_node, machine_id, state, pass, "
                + "reported_pass, stopped_machine, created_at, updated_at) SELECT 'mov_orphan', 'alpha', 'data', id, "
                + "?, ?, ?, 'FOLLOWING', 2, 2, 1, ?, ? FROM volumes WHERE namespace = 'alpha' AND name = 'data'")) {
            update.setString(1, from);
            assertThat(update.executeUpdate()).isEqualTo(1);
            insert.setString(1, to);
            insert.setString(2, from);
            insert.setString(3, id);
            insert.setLong(4, now - 180_000);
            insert.setLong(5, now - 180_000);
            assertThat(insert.executeUpdate()).isEqualTo(1);
        }
        // The leader's loops take it over: the machine follows the volume, then the move is done.
        JsonNode orphan = await().atMost(Duration.ofSeconds(60)).until(() -> volumeMove("mov_orphan"),
                m -> m.path("state").asString().equals("done"));
        assertThat(orphan.path("steps").toString()).contains("taken over after its driver went away",
                "machine " + id + " moved to node " + from, "machine " + id + " started on node " + from);
        assertThat(http.get("/v1/namespaces/alpha/machines/" + id, ADMIN).json().path("node_id").asString())
                .isEqualTo(from);
        awaitMachineState(id, "running");
        var next = http.post(volumes + "/data/move", ADMIN, Map.of());
        assertThat(next.status()).as("%s", next).isEqualTo(202);
        assertThat(next.json().path("from_node").asString()).isEqualTo(from);
    }

    private JsonNode volumeMove(String moveId) {
        for (JsonNode m : http.get("/v1/namespaces/alpha/volumes/data/moves", ADMIN).json()) {
            if (m.path("id").asString().equals(moveId)) return m;
        }
        throw new AssertionError("no move " + moveId + " of volume alpha/data");
    }

    private String machineState(String id) {
        return http.get("/v1/namespaces/alpha/machines/" + id, ADMIN).json().path("state").asString();
    }

    private void awaitMachineState(String id, String state) {
        await().atMost(Duration.ofSeconds(30)).until(() -> machineState(id).equals(state));
    }

    static Map<String, Object> mounting(String name, String volume) {
        var body = new java.util.HashMap<>(small(name));
        body.put("mounts", List.of(Map.of("volume", volume, "path", "/data")));
        return body;
    }

    @Test
    void aFleetWithACountKeepsThatManyMachinesSpreadOverNodesAndScalesBothWays() {
        namespace("alpha");
        for (String n : List.of("n1", "n2", "n3")) agent(n, Map.of(), 4, 8192).live();
        var created = http.post("/v1/namespaces/alpha/fleets", ADMIN, Map.of("name", "web", "strategy", "spread",
                "count", 3, "config", Map.of("image", "busybox", "guest", Map.of("cpus", 1, "memory_mb", 256))));
        assertThat(created.status()).as("%s", created).isEqualTo(201);
        assertThat(created.json().path("count").asInt()).isEqualTo(3);

        await().atMost(Duration.ofSeconds(30)).until(() -> fleetMachines("web").size() == 3);
        assertThat(fleetMachines("web")).extracting(m -> m.path("node_id").asString()).doesNotHaveDuplicates();
        String deleted = fleetMachines("web").getFirst().path("id").asString();
        assertThat(http.delete("/v1/namespaces/alpha/machines/" + deleted, ADMIN).status()).isEqualTo(204);
        await().atMost(Duration.ofSeconds(30)).until(() -> fleetMachines("web").size() == 3
                && fleetMachines("web").stream().noneMatch(m -> m.path("id").asString().equals(deleted)));

        var current = http.get("/v1/namespaces/alpha/fleets/web", ADMIN).json();
        var scaled = http.put("/v1/namespaces/alpha/fleets/web", ADMIN, Map.of("strategy", "spread", "count", 1,
                "config", ApiJson.mapper().convertValue(current.path("config"), Map.class)));
        assertThat(scaled.status()).as("%s", scaled).isEqualTo(200);
        assertThat(scaled.json().path("config_version").asLong()).as("a count is no new config").isEqualTo(1);
        await().atMost(Duration.ofSeconds(30)).until(() -> fleetMachines("web").size() == 1);
        var refused = http.put("/v1/namespaces/alpha/fleets/web", ADMIN, Map.of("count", 1001));
        assertThat(refused.errorCode()).isEqualTo("invalid_argument");
        assertThat(refused.body()).contains("count must be between 0 and 1000, got 1001");
    }

    @Test
    void aFleetWithACountPerRegionPlacesEachRegionsMachinesOnItsNodesScalesOneRegionAloneAndSaysWhyARegionWaits() {
        namespace("alpha");
        agent("ams-a", Map.of("region", "ams"), 4, 8192).live();
        agent("ams-b", Map.of("region", "ams"), 4, 8192).live();
        String ord = agent("ord-a", Map.of("region", "ord"), 4, 8192).live().id();
        var config = Map.of("image", "busybox", "guest", Map.of("cpus", 1, "memory_mb", 256));
        var created = http.post("/v1/namespaces/alpha/fleets", ADMIN, Map.of("name", "web", "strategy", "spread",
                "counts", Map.of("ams", 2, "ord", 1), "config", config));
        assertThat(created.status()).as("%s", created).isEqualTo(201);
        assertThat(created.json().path("count").asInt()).as("the total").isEqualTo(3);
        assertThat(created.json().path("counts").path("ord").asInt()).isEqualTo(1);

        await().atMost(Duration.ofSeconds(30)).until(() -> fleetMachines("web").size() == 3);
        var ams = fleetMachines("web").stream().filter(m -> m.path("region").asString().equals("ams")).toList();
        assertThat(ams).hasSize(2).extracting(m -> m.path("node_name").asString())
                .containsExactlyInAnyOrder("ams-a", "ams-b");
        var inOrd = fleetMachines("web").stream().filter(m -> m.path("region").asString().equals("ord")).toList();
        assertThat(inOrd).singleElement().satisfies(m -> assertThat(m.path("node_id").asString()).isEqualTo(ord));
        String ordMachine = inOrd.getFirst().path("id").asString();
        var regions = http.get("/v1/namespaces/alpha/fleets/web", ADMIN).json().path("regions");
        assertThat(regions).extracting(r -> r.path("region").asString() + " " + r.path("desired").asInt() + "/"
                + r.path("machines").asInt()).containsExactly("ams 2/2", "ord 1/1");

        var scaled = http.put("/v1/namespaces/alpha/fleets/web", ADMIN, Map.of("strategy", "spread",
                "counts", Map.of("ams", 1, "ord", 1, "syd", 1), "config", config));
        assertThat(scaled.status()).as("%s", scaled).isEqualTo(200);
        assertThat(scaled.json().path("config_version").asLong()).as("counts are no new config").isEqualTo(1);
        await().atMost(Duration.ofSeconds(30)).until(() -> {
            var r = http.get("/v1/namespaces/alpha/fleets/web", ADMIN).json().path("regions");
            return r.size() == 3 && r.get(0).path("machines").asInt() == 1 && !r.get(2).path("waiting").isNull()
                    && !r.get(2).path("waiting").isMissingNode();
        });
        assertThat(fleetMachines("web")).extracting(m -> m.path("id").asString()).as("ord untouched")
                .contains(ordMachine).hasSize(2);
        var syd = http.get("/v1/namespaces/alpha/fleets/web", ADMIN).json().path("regions").get(2);
        assertThat(syd.path("region").asString()).isEqualTo("syd");
        assertThat(syd.path("desired").asInt()).isEqualTo(1);
        assertThat(syd.path("machines").asInt()).isZero();
        assertThat(syd.path("waiting").asString()).isEqualTo("create a machine of fleet alpha/web in region syd: "
                + "no node has 1 vCPU and 256 MiB free in region syd (no nodes in region syd; regions: ams, ord)");

        var both = http.put("/v1/namespaces/alpha/fleets/web", ADMIN, Map.of("count", 2, "counts", Map.of("ams", 1)));
        assertThat(both.status()).isEqualTo(400);
        assertThat(both.errorMessage()).contains("counts cannot be given with count");
        var negative = http.put("/v1/namespaces/alpha/fleets/web", ADMIN, Map.of("counts", Map.of("ams", -1)));
        assertThat(negative.status()).isEqualTo(400);
        assertThat(negative.errorMessage()).contains("counts.ams must be between 0 and 1000, got -1");

        assertThat(http.put("/v1/namespaces/alpha/quota", ADMIN, Map.of("machines", 3)).status()).isEqualTo(200);
        var overQuota = http.put("/v1/namespaces/alpha/fleets/web", ADMIN, Map.of("counts", Map.of("ams", 2,
                "ord", 2), "config", config));
        assertThat(overQuota.status()).as("%s", overQuota).isEqualTo(403);
        assertThat(overQuota.errorMessage()).isEqualTo("update fleet alpha/web: namespace alpha is limited to 3 "
                + "machines; this would make it 4 (it has 3)");
        var back = http.put("/v1/namespaces/alpha/fleets/web", ADMIN, Map.of("count", 2, "config", config));
        assertThat(back.status()).as("%s", back).isEqualTo(200);
        assertThat(back.json().path("counts").isNull() || back.json().path("counts").isMissingNode()).isTrue();
        assertThat(back.json().path("regions")).extracting(r -> r.path("region").isNull() + " "
                + r.path("desired").asInt() + "/" + r.path("machines").asInt()).containsExactly("true 2/2");
    }

    @Test
    void machinesAreListedByTheirMetadata() {
        namespace("alpha");
        fleet("alpha", "web", "binpack");
        agent("n1", Map.of(), 4, 8192).live();
        for (String[] m : new String[][] {{"a", "canary"}, {"b", "stable"}, {"c", "canary"}}) {
            var body = new java.util.HashMap<>(small(m[0]));
            body.put("metadata", Map.of("tier", m[1], "team", "web"));
            machine("alpha", "web", ADMIN, body);
        }

        var canary = http.get("/v1/namespaces/alpha/machines?metadata.tier=canary&metadata.team=web", ADMIN).json();
        assertThat(canary).extracting(m -> m.path("name").asString()).containsExactlyInAnyOrder("a", "c");
        assertThat(http.get("/v1/namespaces/alpha/fleets/web/machines?metadata.tier=none", ADMIN).json()).isEmpty();
        var bad = http.get("/v1/namespaces/alpha/machines?metadata.Tier=x", ADMIN);
        assertThat(bad.errorCode()).isEqualTo("invalid_argument");
        assertThat(bad.body()).contains("metadata.Tier: a metadata key is 1-63 of a-z 0-9 _ . -");
    }

    /** The fleet's machines not deleted. */
    private List<JsonNode> fleetMachines(String fleet) {
        var list = http.get("/v1/namespaces/alpha/fleets/" + fleet + "/machines", ADMIN).json();
        var out = new ArrayList<JsonNode>();
        for (JsonNode m : list) {
            if (!m.path("desired_state").asString().equals("destroyed")) out.add(m);
        }
        return out;
    }

    @Test
    void aNodeLongPollsItsAssignmentsAndReportsStates() throws Exception {
        namespace("alpha");
        fleet("alpha", "web", "spread");
        var node = agent("n1", Map.of(), 4, 8192);
        var first = node.poll(0);
        assertThat(first.path("machines")).isEmpty();
        long index = first.path("index").asLong();

        var poll = CompletableFuture.supplyAsync(() -> node.poll(30));
        String id = machine("alpha", "web", ADMIN, small("web-1")).path("id").asString();
        JsonNode changed = poll.get(60, java.util.concurrent.TimeUnit.SECONDS);
        assertThat(changed.path("index").asLong()).isGreaterThan(index);
        assertThat(changed.path("machines")).hasSize(1);
        assertThat(changed.path("machines").get(0).path("id").asString()).isEqualTo(id);
        assertThat(changed.path("machines").get(0).path("desired_state").asString()).isEqualTo("running");
        assertThat(changed.path("machines").get(0).path("config").path("image").asString()).isEqualTo("busybox");

        var waiting = CompletableFuture.supplyAsync(() ->
                http.get("/v1/namespaces/alpha/machines/" + id + "/wait?state=running&timeout_s=60", ADMIN));
        assertThat(node.heartbeat().status()).isEqualTo(200);
        var running = waiting.get(90, java.util.concurrent.TimeUnit.SECONDS);
        assertThat(running.status()).as("%s", running).isEqualTo(200);
        assertThat(running.json().path("state").asString()).isEqualTo("running");
        assertThat(running.json().path("node_id").asString()).isEqualTo(node.id);

        var stopped = http.post("/v1/namespaces/alpha/machines/" + id + "/stop", ADMIN,
                Map.of("signal", "SIGINT", "timeout_s", 5));
        assertThat(stopped.status()).isEqualTo(200);
        var after = node.poll(30).path("machines").get(0);
        assertThat(after.path("desired_state").asString()).isEqualTo("stopped");
        assertThat(after.path("stop").path("signal").asString()).isEqualTo("SIGINT");

        assertThat(http.delete("/v1/namespaces/alpha/machines/" + id, ADMIN).status()).isEqualTo(204);
        assertThat(node.poll(30).path("machines")).isEmpty();
        assertThat(http.get("/v1/namespaces/alpha/machines/" + id, ADMIN).status()).isEqualTo(404);
        node.heartbeat();
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(
                http.get("/v1/nodes/" + node.id, ADMIN).json().path("allocated").path("cpus").asInt()).isZero());
    }

    @Test
    void aPollCarriesTheNodesReportAndAnswers204WhenItsWaitEndsWithTheIndexUnchanged() throws Exception {
        namespace("alpha");
        fleet("alpha", "web", "spread");
        var node = agent("n1", Map.of(), 4, 8192);
        long index = node.poll(0).path("index").asLong();
        assertThat(node.reportAndPoll(1).status()).isEqualTo(204);

        var poll = CompletableFuture.supplyAsync(() -> node.reportAndPoll(30));
        String id = machine("alpha", "web", ADMIN, small("web-1")).path("id").asString();
        var changed = poll.get(60, java.util.concurrent.TimeUnit.SECONDS);
        assertThat(changed.status()).as("%s", changed).isEqualTo(200);
        assertThat(changed.json().path("index").asLong()).isGreaterThan(index);
        assertThat(changed.json().path("machines").get(0).path("id").asString()).isEqualTo(id);

        // The next poll reports the machine running, and waits on.
        var running = CompletableFuture.supplyAsync(() ->
                http.get("/v1/namespaces/alpha/machines/" + id + "/wait?state=running&timeout_s=60", ADMIN));
        assertThat(node.reportAndPoll(1).status()).isEqualTo(204);
        assertThat(running.get(90, java.util.concurrent.TimeUnit.SECONDS).json().path("state").asString())
                .isEqualTo("running");
    }

    @Test
    void aPollHeldUntilItsWaitEndsRecordsTheNodesHeartbeatAgainAndSaysHowLongItHeldIt() throws Exception {
        // Three nodes whose polls end together: their ends are written in one batch, each node's own.
        var nodes = List.of(agent("n1", Map.of(), 4, 8192), agent("n2", Map.of(), 4, 8192),
                agent("n3", Map.of(), 4, 8192));
        var reported = new java.util.HashMap<String, Instant>();
        for (FakeAgent node : nodes) {
            node.poll(0);
            assertThat(node.heartbeat().status()).isEqualTo(200);
            reported.put(node.id, Instant.parse(http.get("/v1/nodes/" + node.id, ADMIN).json().path("heartbeat_at")
                    .asString()));
        }

        var polls = nodes.stream().map(node -> CompletableFuture.supplyAsync(() -> node.reportAndPoll(1))).toList();

        for (int i = 0; i < nodes.size(); i++) {
            var held = polls.get(i).get(30, java.util.concurrent.TimeUnit.SECONDS);
            assertThat(held.status()).isEqualTo(204);
            assertThat(held.header(Heartbeat.HELD_MS_HEADER)).as("%s", held.headers())
                    .hasValueSatisfying(ms -> assertThat(Long.parseLong(ms)).isBetween(1000L, 30_000L));
            // The wait's end is recorded as a heartbeat: the node's record is later than the report that opened it.
            String id = nodes.get(i).id;
            assertThat(Instant.parse(http.get("/v1/nodes/" + id, ADMIN).json().path("heartbeat_at").asString()))
                    .isAfter(reported.get(id));
        }
    }

    @Test
    void aMachineThatDestroyedItselfAtItsRunsEndIsDeletedAndNotAskedForAgain() throws Exception {
        namespace("alpha");
        fleet("alpha", "web", "spread");
        var node = agent("n1", Map.of(), 4, 8192);
        var once = new java.util.HashMap<String, Object>(small("once"));
        once.put("auto_destroy", true);
        String rm = machine("alpha", "web", ADMIN, once).path("id").asString();
        String kept = machine("alpha", "web", ADMIN, small("kept")).path("id").asString();
        var generations = new java.util.HashMap<String, Long>();
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            for (JsonNode m : node.poll(0).path("machines")) generations.put(m.path("id").asString(),
                    m.path("generation").asLong());
            assertThat(generations).containsKeys(rm, kept);
        });

        // A node says a machine destroyed itself: only one whose config says auto_destroy is deleted.
        assertThat(node.report(rm, generations.get(rm), "destroyed", null).status()).isEqualTo(200);
        assertThat(node.report(kept, generations.get(kept), "destroyed", null).status()).isEqualTo(200);
        assertThat(http.get("/v1/namespaces/alpha/machines/" + rm, ADMIN).status()).isEqualTo(404);
        assertThat(http.get("/v1/namespaces/alpha/machines/" + kept, ADMIN).status()).isEqualTo(200);
        var assigned = new ArrayList<String>();
        node.poll(0).path("machines").forEach(m -> assigned.add(m.path("id").asString()));
        assertThat(assigned).containsExactly(kept);
        // Once the node no longer reports it, its row goes; the other machine is still wanted.
        node.heartbeat();
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(
                http.get("/v1/nodes/" + node.id, ADMIN).json().path("allocated").path("cpus").asInt()).isEqualTo(1));
    }

    @Test
    void aReportWritesWhatChangedOfItsOwnNodesMachinesOnlyAndTheSameReportAgainWritesNothing() throws Exception {
        namespace("alpha");
        fleet("alpha", "web", "spread");
        var owner = agent("n1", Map.of(), 4, 8192);
        String id = machine("alpha", "web", ADMIN, small("web-1")).path("id").asString();
        var stranger = agent("n2", Map.of(), 4, 8192);
        String path = "/v1/namespaces/alpha/machines/" + id;
        long generation = owner.poll(0).path("machines").get(0).path("generation").asLong();

        // Another node naming the machine in its report changes nothing of it.
        assertThat(stranger.report(List.of(Map.of("id", id, "generation", generation, "state", "running")))
                .status()).isEqualTo(200);
        assertThat(http.get(path, ADMIN).json().path("state").asString()).isEqualTo("created");

        var report = new java.util.LinkedHashMap<String, Object>(Map.of("id", id, "generation", generation,
                "state", "stopped", "exit_code", 3, "error", "exited with 3", "image_digest", "sha256:" + "a".repeat(64)));
        report.put("checks", List.of(Map.of("name", "http", "status", "critical", "output", "connection refused",
                "updated_at", "2026-12-04T20:00:00Z")));
        assertThat(owner.report(List.of(report)).status()).isEqualTo(200);
        JsonNode stopped = http.get(path, ADMIN).json();
        assertThat(stopped.path("state").asString()).isEqualTo("stopped");
        assertThat(stopped.path("exit_code").asInt()).isEqualTo(3);
        assertThat(stopped.path("error").asString()).isEqualTo("exited with 3");
        assertThat(stopped.path("image_digest").asString()).isEqualTo("sha256:" + "a".repeat(64));
        assertThat(stopped.path("checks").get(0).path("status").asString()).isEqualTo("critical");
        Instant changedAt = Instant.parse(stopped.path("updated_at").asString());

        // The same report a moment later is no change: the machine's last change keeps its time.
        await().atMost(Duration.ofSeconds(5)).until(() -> Instant.now().isAfter(changedAt.plusMillis(5)));
        assertThat(owner.report(List.of(report)).status()).isEqualTo(200);
        assertThat(http.get(path, ADMIN).json().path("updated_at").asString())
                .isEqualTo(stopped.path("updated_at").asString());

        // A check's result alone is a change.
        report.put("checks", List.of(Map.of("name", "http", "status", "passing", "output", "200 OK",
                "updated_at", "2026-12-04T20:00:05Z")));
        assertThat(owner.report(List.of(report)).status()).isEqualTo(200);
        JsonNode passing = http.get(path, ADMIN).json();
        assertThat(passing.path("checks").get(0).path("status").asString()).isEqualTo("passing");
        assertThat(Instant.parse(passing.path("updated_at").asString())).isAfter(changedAt);
    }

    @Test
    void aLostNodesMachinesMoveAndItIsNotToldToRunThemWhenItReturns() throws Exception {
        namespace("alpha");
        fleet("alpha", "web", "spread");
        var a = agent("a", Map.of(), 4, 8192).live();
        String moving = machine("alpha", "web", ADMIN, small("moving")).path("id").asString();
        var pinned = new java.util.HashMap<String, Object>(small("pinned"));
        pinned.put("restart", Map.of("policy", "no"));
        String failing = machine("alpha", "web", ADMIN, pinned).path("id").asString();
        var onFailure = new java.util.HashMap<String, Object>(small("restarting"));
        onFailure.put("restart", Map.of("policy", "on-failure", "max_retries", 2));
        String restarting = machine("alpha", "web", ADMIN, onFailure).path("id").asString();
        var b = agent("b", Map.of(), 4, 8192).live();
        assertThat(a.assignedIds()).containsExactlyInAnyOrder(moving, failing, restarting);

        a.silence();
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
            assertThat(http.get("/v1/nodes/" + a.id, ADMIN).json().path("state").asString()).isEqualTo("down");
            for (String id : List.of(moving, restarting)) {
                var m = http.get("/v1/namespaces/alpha/machines/" + id, ADMIN).json();
                assertThat(m.path("node_id").asString()).isEqualTo(b.id);
                assertThat(m.path("state").asString()).isEqualTo("running");
            }
        });
        var failed = http.get("/v1/namespaces/alpha/machines/" + failing, ADMIN).json();
        assertThat(failed.path("state").asString()).isEqualTo("failed");
        assertThat(failed.path("node_id").isNull()).isTrue();
        assertThat(failed.path("error").asString()).contains("was lost", "restart policy no");

        a.live();
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
                assertThat(http.get("/v1/nodes/" + a.id, ADMIN).json().path("state").asString()).isEqualTo("ready"));
        assertThat(a.assignedIds()).isEmpty();
        assertThat(b.assignedIds()).containsExactlyInAnyOrder(moving, restarting);
    }

    /** A node's end of the private network: a key made of {@code n}s, an endpoint in TEST-NET-1. */
    static Map<String, Object> link(int n, int port) {
        byte[] key = new byte[32];
        java.util.Arrays.fill(key, (byte) n);
        return Map.of("public_key", java.util.Base64.getEncoder().encodeToString(key),
                "endpoint", "192.0.2." + n + ":" + port, "kind", "userspace");
    }

    @Test
    void thePrivateNetworkPlanIsTheClustersOnceANodeHoldsAnAddressOfIt() throws Exception {
        var small = new dev.bolero.network.PrivateAddressing("172.16.0.0/12", 4, 6);
        restart(config(dataDir, db).withPrivateNetwork(small)); // no address given yet: the plan may still change
        var a = member("a", 1, 51820);
        assertThat(a.privateNetwork.path("pool").asString()).isEqualTo("172.16.0.0/12");
        assertThat(a.privateNetwork.path("node_bits").asInt()).isEqualTo(4);
        assertThat(a.privateNetwork.path("namespace_bits").asInt()).isEqualTo(6);

        server.close();
        server = null;
        assertThatThrownBy(() -> Server.start(config(dataDir, db).withPrivateNetwork(
                dev.bolero.network.PrivateAddressing.DEFAULT)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("start server: the private network's address plan is 172.16.0.0/12 (15 nodes, 64 "
                        + "namespaces, 1021 machines per namespace on a node), fixed since nodes hold addresses of it; "
                        + "this server was given 10.0.0.0/8 (63 nodes, 1024 namespaces, 253 machines per namespace on "
                        + "a node) (start it with the cluster's plan, or without one)");

        restart(config(dataDir, db)); // none given: the cluster's
        var b = member("b", 2, 51820);
        assertThat(b.privateNetwork.path("pool").asString()).isEqualTo("172.16.0.0/12");
        assertThat(b.privateNetwork.path("node_index").asInt()).isEqualTo(1);
    }

    /** Stops the server, if it runs, and starts it again with {@code config}. */
    void restart(ServerConfig config) {
        if (server != null) server.close();
        server = Server.start(config);
        http = new Http(server.port());
    }

    @Test
    void privateNetworkNodesGetIndexesPeersAndDnsRecordsThatFollowEndpointsMachinesAndNodeLoss() throws Exception {
        namespace("alpha");
        fleet("alpha", "web", "spread");
        var a = member("a", 1, 51820);
        var b = member("b", 2, 51820);
        var plain = agent("plain", Map.of(), 4, 8192);
        assertThat(http.post("/v1/nodes/" + plain.id + "/cordon", ADMIN, Map.of()).status()).isEqualTo(200);
        assertThat(a.privateNetwork.path("pool").asString()).isEqualTo("10.0.0.0/8");
        assertThat(a.privateNetwork.path("node_bits").asInt()).isEqualTo(6);
        assertThat(a.privateNetwork.path("namespace_bits").asInt()).isEqualTo(10);
        assertThat(a.privateNetwork.path("node_index").asInt()).isZero();
        assertThat(b.privateNetwork.path("node_index").asInt()).isEqualTo(1);
        assertThat(plain.privateNetwork.isMissingNode() || plain.privateNetwork.isNull()).isTrue();

        var peers = a.poll(0).path("peers");
        assertThat(peers).hasSize(1);
        assertThat(peers.get(0).path("node_id").asString()).isEqualTo(b.id);
        assertThat(peers.get(0).path("public_key").asString()).isEqualTo(link(2, 51820).get("public_key"));
        assertThat(peers.get(0).path("endpoint").asString()).isEqualTo("192.0.2.2:51820");
        assertThat(peers.get(0).path("allowed_ips").get(0).asString()).isEqualTo("10.4.0.0/14");
        assertThat(b.poll(0).path("peers").get(0).path("allowed_ips").get(0).asString()).isEqualTo("10.0.0.0/14");
        assertThat(plain.poll(0).path("peers")).isEmpty();

        a.live();
        b.live();
        String one = machine("alpha", "web", ADMIN, small("web-1")).path("id").asString();
        String two = machine("alpha", "web", ADMIN, small("web-2")).path("id").asString();
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
            for (var node : List.of(a, b)) {
                var answer = node.poll(0);
                assertThat(answer.path("machines").get(0).path("namespace_index").asInt()).isZero();
                var names = new ArrayList<String>();
                answer.path("dns").forEach(r -> names.add(r.path("name").asString() + " " + r.path("fleet").asString()
                        + " " + r.path("private_ip").asString()));
                assertThat(names).as("dns of node %s", node.id).containsExactlyInAnyOrder(
                        "web-1 web " + privateIp(one), "web-2 web " + privateIp(two));
            }
        });
        assertThat(List.of(privateIp(one), privateIp(two))).containsExactlyInAnyOrder("10.0.0.2", "10.4.0.2");

        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(http.get("/v1/nodes/" + a.id, ADMIN)
                .json().path("private_network").path("kind").asString()).isEqualTo("userspace"));
        assertThat(http.get("/v1/nodes/" + plain.id, ADMIN).json().path("private_network").isNull()).isTrue();
        b.link(link(2, 51999));
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
                assertThat(a.poll(0).path("peers").get(0).path("endpoint").asString()).isEqualTo("192.0.2.2:51999"));

        b.silence();
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
            var answer = a.poll(0);
            assertThat(answer.path("peers")).as("a node down is no peer").isEmpty();
            assertThat(answer.path("machines")).hasSize(2);
            var addresses = new ArrayList<String>();
            answer.path("dns").forEach(r -> addresses.add(r.path("private_ip").asString()));
            assertThat(addresses).as("the moved machine's name follows it").containsExactlyInAnyOrder(
                    "10.0.0.2", "10.0.0.3");
        });
    }

    /**
     * A node's report that starts or stops a machine with a private address moves the assignment index of every node
     * hosting that namespace: their long polls at their current index answer with the new records, rather than
     * waiting out their wait (60 s here, which no answer with a moved index can have waited out unanswered).
     */
    @Test
    void aReportThatChangesPrivateDnsRecordsWakesThePollsOfTheNamespacesOtherNodes() throws Exception {
        namespace("alpha");
        fleet("alpha", "web", "spread");
        var a = member("a", 1, 51820);
        var b = member("b", 2, 51820);
        String one = machine("alpha", "web", ADMIN, small("web-1")).path("id").asString();
        String two = machine("alpha", "web", ADMIN, small("web-2")).path("id").asString();
        await().atMost(Duration.ofSeconds(30)).until(() -> a.assignedIds().size() == 1 && b.assignedIds().size() == 1);
        FakeAgent starter = a.assignedIds().contains(one) ? a : b;
        FakeAgent other = starter == a ? b : a;
        // Whatever else a report may change goes first: the starter's link (a report without its machine yet), then
        // the other node's machine running. The starter's report of its machine running is the only change left.
        assertThat(starter.heartbeat().status()).isEqualTo(200);
        other.poll(0);
        assertThat(other.heartbeat().status()).isEqualTo(200);
        starter.poll(0);
        long before = other.poll(0).path("index").asLong();

        var woken = java.util.concurrent.CompletableFuture.supplyAsync(() -> other.poll(60));
        assertThat(starter.heartbeat().status()).isEqualTo(200);
        JsonNode answer = woken.get(90, java.util.concurrent.TimeUnit.SECONDS);
        // Another change may have answered first: then the next poll at the new index waits for the report's.
        for (int polls = 1; ; polls++) {
            assertThat(answer.path("index").asLong()).as("poll %d answered with a moved index", polls)
                    .isGreaterThan(before);
            var records = new ArrayList<String>();
            answer.path("dns").forEach(r -> records.add(r.path("machine_id").asString()));
            if (records.contains(one)) break;
            assertThat(polls).as("polls answered without the starter's record: %s", records).isLessThan(5);
            before = answer.path("index").asLong();
            answer = other.poll(60);
        }
    }

    @Test
    void gatewaysJoinTheMeshWithTheLowestFreeInfrastructureAddressAndLeaveOrLapse() throws Exception {
        var a = member("a", 1, 51820);
        a.live();

        var first = http.post("/v1/gateway/mesh", ADMIN, link(50, 51820));
        assertThat(first.status()).as(first.body()).isEqualTo(200);
        assertThat(first.json().path("address").asString()).isEqualTo("10.252.0.1");
        assertThat(first.json().path("pool").asString()).isEqualTo("10.0.0.0/8");
        assertThat(first.json().path("renew_seconds").asInt()).isLessThan(first.json().path("lease_seconds").asInt());
        var gatewayPeers = first.json().path("peers");
        assertThat(gatewayPeers).hasSize(1);
        assertThat(gatewayPeers.get(0).path("node_id").asString()).isEqualTo(a.id);
        assertThat(gatewayPeers.get(0).path("allowed_ips").get(0).asString()).isEqualTo("10.0.0.0/14");
        String firstId = first.json().path("id").asString();
        assertThat(gatewayAllowedIps(a)).containsExactly("10.252.0.1/32");

        var second = http.post("/v1/gateway/mesh", ADMIN, link(51, 51820));
        assertThat(second.json().path("address").asString()).isEqualTo("10.252.0.2");
        var renewed = http.post("/v1/gateway/mesh", ADMIN, link(50, 51820));
        assertThat(renewed.json().path("id").asString()).as("a renewal keeps id and address").isEqualTo(firstId);
        assertThat(renewed.json().path("address").asString()).isEqualTo("10.252.0.1");
        assertThat(http.post("/v1/gateway/mesh", ADMIN, Map.of("public_key", "short", "endpoint", "192.0.2.9:1"))
                .status()).isEqualTo(400);

        assertThat(http.delete("/v1/gateway/mesh/" + firstId, ADMIN).status()).isEqualTo(204);
        assertThat(http.delete("/v1/gateway/mesh/" + firstId, ADMIN).status()).isEqualTo(404);
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
                assertThat(gatewayAllowedIps(a)).doesNotContain("10.252.0.1/32"));
        var third = http.post("/v1/gateway/mesh", ADMIN, link(52, 51820));
        assertThat(third.json().path("address").asString()).as("the lowest free address").isEqualTo("10.252.0.1");

        // Neither renews: both lapse after the lease (the nodes' down delay) and leave the node's peers.
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(gatewayAllowedIps(a)).isEmpty());
        assertThat(a.poll(0).path("peers")).isEmpty();
    }

    /** The allowed IPs of the gateways among a node's peers (a gateway's are in the infrastructure range). */
    private static List<String> gatewayAllowedIps(FakeAgent node) {
        var ips = new ArrayList<String>();
        node.poll(0).path("peers").forEach(p -> p.path("allowed_ips").forEach(ip -> {
            if (ip.asString().startsWith("10.252.")) ips.add(ip.asString());
        }));
        return ips;
    }

    private String privateIp(String machineId) {
        return http.get("/v1/namespaces/alpha/machines/" + machineId, ADMIN).json().path("private_ip").asString();
    }

    @Test
    void aMachineTakesTheNodesWholeConfigInItsTenantAndDefaultsToRestartOnFailure() {
        namespace("alpha");
        fleet("alpha", "web", "spread");
        var node = agent("n1", Map.of(), 4, 8192);
        var spec = new java.util.HashMap<String, Object>(small("full"));
        spec.put("restart", Map.of("policy", "always", "max_retries", 3));
        spec.put("auto_destroy", true);
        spec.put("stop", Map.of("signal", "SIGINT", "timeout_s", 30));
        spec.put("network", Map.of("egress", false));
        spec.put("services", List.of(Map.of("protocol", "tcp", "internal_port", 80, "port", 18080),
                Map.of("protocol", "udp", "internal_port", 53, "port", 18053)));
        String full = machine("alpha", "web", ADMIN, spec).path("id").asString();
        String plain = machine("alpha", "web", ADMIN, small("plain")).path("id").asString();

        var assignments = new java.util.HashMap<String, JsonNode>();
        node.poll(0).path("machines").forEach(m -> assignments.put(m.path("id").asString(), m));
        var config = assignments.get(full).path("config");
        assertThat(assignments.get(full).path("namespace").asString()).isEqualTo("alpha");
        assertThat(config.path("restart").path("policy").asString()).isEqualTo("always");
        assertThat(config.path("restart").path("max_retries").asInt()).isEqualTo(3);
        assertThat(config.path("auto_destroy").asBoolean()).isTrue();
        assertThat(config.path("stop").path("signal").asString()).isEqualTo("SIGINT");
        assertThat(config.path("stop").path("timeout_s").asInt()).isEqualTo(30);
        assertThat(config.path("network").path("egress").asBoolean()).isFalse();
        assertThat(config.path("services")).hasSize(2);
        assertThat(config.path("services").get(0).path("port").asInt()).isEqualTo(18080);
        assertThat(config.path("services").get(0).path("internal_port").asInt()).isEqualTo(80);
        assertThat(config.path("services").get(1).path("protocol").asString()).isEqualTo("udp");
        assertThat(http.get("/v1/namespaces/alpha/machines/" + full, ADMIN).json().path("config"))
                .isEqualTo(config);

        assertThat(assignments.get(plain).path("namespace").asString()).isEqualTo("alpha");
        var defaults = assignments.get(plain).path("config");
        assertThat(defaults.path("restart").path("policy").asString()).isEqualTo("on-failure");
        assertThat(defaults.path("restart").path("max_retries").isNull()).isTrue();
        assertThat(defaults.path("auto_destroy").asBoolean()).isFalse();
        assertThat(defaults.path("services")).isEmpty();
    }

    @Test
    void aMachineAskingForADriverGoesOnlyToANodeReportingItAndIsRefusedWithTheReasonWhileNoneDoes() {
        namespace("alpha");
        fleet("alpha", "web", "spread");
        var qemu = agent("q1", Map.of(), 4, 8192);
        var firecracker = new java.util.HashMap<String, Object>(small("fc"));
        firecracker.put("driver", "firecracker");
        var refused = createMachine("/v1/namespaces/alpha/fleets/web/machines", ADMIN, firecracker);
        assertThat(refused.errorCode()).as("%s", refused).isEqualTo("failed_precondition");
        assertThat(refused.json().path("error").path("message").asString())
                .contains("with driver firecracker", "1 lacks driver firecracker");

        var fc = agent(new FakeAgent(http, JOIN, "f1", Map.of(), 4, 8192, List.of("firecracker")));
        assertThat(http.get("/v1/nodes/" + fc.id, ADMIN).json().path("drivers").get(0).asString())
                .isEqualTo("firecracker");
        var placed = machine("alpha", "web", ADMIN, firecracker);
        assertThat(placed.path("node_id").asString()).isEqualTo(fc.id);
        assertThat(placed.path("config").path("driver").asString()).isEqualTo("firecracker");
        assertThat(machine("alpha", "web", ADMIN, small("any")).path("node_id").asString())
                .as("a machine naming no driver goes to any node").isIn(qemu.id, fc.id);
    }

    @Test
    void aMachineBodyNamingANamespaceOrAnOldStyleRestartIsRefused() {
        namespace("alpha");
        fleet("alpha", "web", "spread");
        agent("n1", Map.of(), 4, 8192).live();
        var named = new java.util.HashMap<String, Object>(small("x"));
        named.put("namespace", "beta");
        var refused = createMachine("/v1/namespaces/alpha/fleets/web/machines", ADMIN, named);
        assertThat(refused.errorCode()).isEqualTo("invalid_argument");
        assertThat(refused.json().path("error").path("message").asString()).contains("unknown field 'namespace'");

        var oldRestart = new java.util.HashMap<String, Object>(small("y"));
        oldRestart.put("restart", "always");
        assertThat(createMachine("/v1/namespaces/alpha/fleets/web/machines", ADMIN, oldRestart).errorCode())
                .isEqualTo("invalid_argument");
        var badPolicy = new java.util.HashMap<String, Object>(small("z"));
        badPolicy.put("restart", Map.of("policy", "sometimes"));
        assertThat(createMachine("/v1/namespaces/alpha/fleets/web/machines", ADMIN, badPolicy).json()
                .path("error").path("message").asString()).contains("restart.policy", "sometimes");
        var twice = new java.util.HashMap<String, Object>(small("w"));
        twice.put("services", List.of(Map.of("protocol", "tcp", "internal_port", 80, "port", 8080),
                Map.of("protocol", "tcp", "internal_port", 81, "port", 8080)));
        assertThat(createMachine("/v1/namespaces/alpha/fleets/web/machines", ADMIN, twice).json()
                .path("error").path("message").asString()).contains("tcp port 8080 is published twice");
        assertThat(http.get("/v1/namespaces/alpha/machines", ADMIN).json()).isEmpty();
    }

    @Test
    void aMachineItsNodeRefusedToCreateShowsFailedWithTheNodesReason() throws Exception {
        namespace("alpha");
        fleet("alpha", "web", "spread");
        var node = agent("n1", Map.of(), 4, 8192);
        String id = machine("alpha", "web", ADMIN, small("taken")).path("id").asString();
        long generation = node.poll(0).path("machines").get(0).path("generation").asLong();
        String reason = "create on node " + node.id + " refused: tcp port 8080 is already published by machine m2";
        assertThat(node.report(id, generation, "failed", reason).status()).isEqualTo(200);
        var failed = http.get("/v1/namespaces/alpha/machines/" + id, ADMIN).json();
        assertThat(failed.path("state").asString()).isEqualTo("failed");
        assertThat(failed.path("error").asString()).isEqualTo(reason);
        assertThat(failed.path("node_id").asString()).isEqualTo(node.id);
    }

    @Test
    void machinesPublishingTheSameHostPortLandOnDistinctNodesAndADeleteFreesThePort() {
        namespace("alpha");
        fleet("alpha", "web", "binpack");
        var a = agent("a", Map.of("region", "eu"), 4, 8192).live();
        var b = agent("b", Map.of("region", "eu"), 4, 8192).live();
        var nodes = new HashSet<String>();
        var ids = new ArrayList<String>();
        for (int i = 0; i < 2; i++) {
            var created = machine("alpha", "web", ADMIN, publishing("w" + i, "tcp", 8080));
            nodes.add(created.path("node_id").asString());
            ids.add(created.path("id").asString());
        }
        assertThat(nodes).containsExactlyInAnyOrder(a.id, b.id);
        machine("alpha", "web", ADMIN, publishing("dns", "udp", 8080));

        var refused = createMachine("/v1/namespaces/alpha/fleets/web/machines", ADMIN, publishing("w2", "tcp", 8080));
        assertThat(refused.errorCode()).as("%s", refused).isEqualTo("failed_precondition");
        assertThat(refused.status()).isEqualTo(400);
        assertThat(refused.json().path("error").path("message").asString())
                .contains("no node has 1 vCPU and 512 MiB and tcp port 8080 free", "2 have tcp port 8080 in use");
        assertThat(http.get("/v1/namespaces/alpha/machines", ADMIN).json()).hasSize(3);

        assertThat(http.delete("/v1/namespaces/alpha/machines/" + ids.getFirst(), ADMIN).status()).isEqualTo(204);
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(
                createMachine("/v1/namespaces/alpha/fleets/web/machines", ADMIN, publishing("w2", "tcp", 8080)).status())
                .isEqualTo(201));
    }

    @Test
    void concurrentCreatesPublishingOnePortOnOneNodeDoNotBothLandThere() {
        namespace("alpha");
        fleet("alpha", "web", "binpack");
        agent("a", Map.of(), 4, 8192).live();
        var creates = List.of("w0", "w1").stream().map(name -> CompletableFuture.supplyAsync(() ->
                createMachine("/v1/namespaces/alpha/fleets/web/machines", ADMIN, publishing(name, "tcp", 8080)))).toList();
        var statuses = creates.stream().map(c -> c.join().status()).toList();
        assertThat(statuses).containsExactlyInAnyOrder(201, 400);
        assertThat(http.get("/v1/namespaces/alpha/machines", ADMIN).json()).hasSize(1);
    }

    static Map<String, Object> publishing(String name, String protocol, int port) {
        var spec = new java.util.HashMap<String, Object>(small(name));
        spec.put("services", List.of(Map.of("protocol", protocol, "internal_port", 80, "port", port)));
        return spec;
    }

    @Test
    void quotaIsSetByTheAdminReadByItsNamespaceAndACreatePastItIs403QuotaExceededNamingTheLimit() {
        namespace("alpha");
        namespace("beta");
        fleet("alpha", "web", "binpack");
        agent("n1", Map.of(), 16, 65536).live();
        String alpha = http.post("/v1/namespaces/alpha/tokens", ADMIN, null).json().path("token").asString();
        var unlimited = http.get("/v1/namespaces/alpha/quota", alpha);
        assertThat(unlimited.status()).as("%s", unlimited).isEqualTo(200);
        assertThat(unlimited.json().path("limits").path("machines").isNull()).isTrue();

        var bySelf = http.put("/v1/namespaces/alpha/quota", alpha, Map.of("machines", 100));
        assertThat(bySelf.status()).as("a namespace does not set its own quota").isEqualTo(403);
        assertThat(bySelf.errorCode()).isEqualTo("permission_denied");
        assertThat(http.get("/v1/namespaces/beta/quota", alpha).status()).as("another namespace's").isEqualTo(404);
        assertThat(http.put("/v1/namespaces/alpha/quota", ADMIN, Map.of("machines", -1)).errorMessage())
                .contains("machines must be between 0 and 1000000000, got -1");
        assertThat(http.put("/v1/namespaces/alpha/quota", ADMIN, Map.of("cpus", 1)).errorCode())
                .as("an unknown limit").isEqualTo("invalid_argument");

        var set = http.put("/v1/namespaces/alpha/quota", ADMIN, Map.of("machines", 2, "vcpus", 3));
        assertThat(set.status()).as("%s", set).isEqualTo(200);
        machine("alpha", "web", alpha, small("m1"));
        var overCpus = createMachine("/v1/namespaces/alpha/fleets/web/machines", alpha, Map.of("name", "m2",
                "image", "busybox", "guest", Map.of("cpus", 4, "memory_mb", 256)));
        assertThat(overCpus.status()).as("%s", overCpus).isEqualTo(403);
        assertThat(overCpus.errorCode()).isEqualTo("quota_exceeded");
        assertThat(overCpus.errorMessage()).isEqualTo("create machine m2 in alpha/web: namespace alpha is limited to "
                + "3 vCPUs; this would make it 5 (it has 1)");
        machine("alpha", "web", alpha, small("m2"));
        var overCount = createMachine("/v1/namespaces/alpha/fleets/web/machines", alpha, small("m3"));
        assertThat(overCount.status()).isEqualTo(403);
        assertThat(overCount.errorMessage()).isEqualTo("create machine m3 in alpha/web: namespace alpha is limited to "
                + "2 machines; this would make it 3 (it has 2)");

        var quota = http.get("/v1/namespaces/alpha/quota", alpha).json();
        assertThat(quota.path("limits").path("vcpus").asInt()).isEqualTo(3);
        assertThat(quota.path("usage").path("machines").asInt()).isEqualTo(2);
        assertThat(quota.path("usage").path("vcpus").asInt()).isEqualTo(2);
        assertThat(quota.path("usage").path("memory_mib").asInt()).isEqualTo(1024);
        String m1 = http.get("/v1/namespaces/alpha/machines", alpha).json().get(0).path("id").asString();
        assertThat(http.delete("/v1/namespaces/alpha/machines/" + m1, alpha).status()).isEqualTo(204);
        machine("alpha", "web", alpha, small("m3")); // a deleted machine no longer counts
    }

    @Test
    void quotaConcurrentCreatesNeverTakeANamespacePastItsMachineLimit() throws Exception {
        namespace("alpha");
        fleet("alpha", "web", "binpack");
        agent("n1", Map.of(), 64, 65536).live();
        assertThat(http.put("/v1/namespaces/alpha/quota", ADMIN, Map.of("machines", 5)).status()).isEqualTo(200);
        var start = new java.util.concurrent.CountDownLatch(1);
        var creates = new ArrayList<CompletableFuture<Http.Response>>();
        for (int i = 0; i < 24; i++) {
            String name = "c" + i;
            creates.add(CompletableFuture.supplyAsync(() -> {
                try {
                    start.await();
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
                return createMachine("/v1/namespaces/alpha/fleets/web/machines", ADMIN, small(name));
            }, java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor()));
        }
        start.countDown();
        var statuses = creates.stream().map(c -> c.join().status()).toList();
        assertThat(statuses).filteredOn(s -> s == 201).hasSize(5);
        assertThat(statuses).filteredOn(s -> s == 403).hasSize(19);
        assertThat(http.get("/v1/namespaces/alpha/machines", ADMIN).json()).hasSize(5);
        assertThat(http.get("/v1/namespaces/alpha/quota", ADMIN).json().path("usage").path("machines").asInt())
                .isEqualTo(5);
    }

    @Test
    void quotaCountsAFleetAsItsCountOfMachinesAndLimitsVolumesAndTheirSize() {
        namespace("alpha");
        agent("n1", Map.of(), 16, 65536).live();
        assertThat(http.put("/v1/namespaces/alpha/quota", ADMIN, Map.of("vcpus", 4, "volumes", 2, "volume_gib", 10))
                .status()).isEqualTo(200);
        var config = Map.of("image", "busybox", "guest", Map.of("cpus", 2, "memory_mb", 256));
        var tooBig = http.post("/v1/namespaces/alpha/fleets", ADMIN, Map.of("name", "web", "count", 3, "config",
                config));
        assertThat(tooBig.status()).as("%s", tooBig).isEqualTo(403);
        assertThat(tooBig.errorMessage()).isEqualTo("create fleet alpha/web: namespace alpha is limited to 4 vCPUs; "
                + "this would make it 6 (it has 0)");
        assertThat(http.post("/v1/namespaces/alpha/fleets", ADMIN, Map.of("name", "web", "count", 2, "config",
                config)).status()).isEqualTo(201);
        await().atMost(Duration.ofSeconds(30)).until(() -> fleetMachines("web").size() == 2);
        var scaled = http.put("/v1/namespaces/alpha/fleets/web", ADMIN, Map.of("count", 3, "config", config));
        assertThat(scaled.status()).as("%s", scaled).isEqualTo(403);
        assertThat(scaled.errorMessage()).isEqualTo("update fleet alpha/web: namespace alpha is limited to 4 vCPUs; "
                + "this would make it 6 (it has 4)");
        assertThat(http.put("/v1/namespaces/alpha/quota", ADMIN, Map.of("vcpus", 1)).status()).isEqualTo(200);
        assertThat(http.put("/v1/namespaces/alpha/fleets/web", ADMIN, Map.of("count", 1, "config", config)).status())
                .as("shrinking past a lowered limit").isEqualTo(200);
        var deployed = http.post("/v1/namespaces/alpha/fleets/web/deployments", ADMIN, Map.of("config",
                Map.of("image", "busybox", "guest", Map.of("cpus", 3, "memory_mb", 256))));
        assertThat(deployed.status()).as("%s", deployed).isEqualTo(403);
        assertThat(deployed.errorMessage()).isEqualTo("deploy fleet alpha/web: namespace alpha is limited to 1 vCPU; "
                + "this would make it 3 (it has 2)");

        String volumes = "/v1/namespaces/alpha/volumes";
        assertThat(http.put("/v1/namespaces/alpha/quota", ADMIN, Map.of("volumes", 2, "volume_gib", 10)).status())
                .isEqualTo(200);
        assertThat(http.post(volumes, ADMIN, Map.of("name", "a", "size_gb", 4)).status()).isEqualTo(201);
        assertThat(http.post(volumes, ADMIN, Map.of("name", "b", "size_gb", 4)).status()).isEqualTo(201);
        var third = http.post(volumes, ADMIN, Map.of("name", "c", "size_gb", 1));
        assertThat(third.status()).isEqualTo(403);
        assertThat(third.errorMessage()).isEqualTo("create volume alpha/c: namespace alpha is limited to 2 volumes; "
                + "this would make it 3 (it has 2)");
        var extended = http.put(volumes + "/a/extend", ADMIN, Map.of("size_gb", 7));
        assertThat(extended.status()).isEqualTo(403);
        assertThat(extended.errorMessage()).isEqualTo("extend volume alpha/a to 7 GiB: namespace alpha is limited to "
                + "10 GiB of volumes; this would make it 11 (it has 8)");
        assertThat(http.put(volumes + "/a/extend", ADMIN, Map.of("size_gb", 6)).status()).isEqualTo(200);
    }

    @Test
    void drainingANodeMovesItsMachinesCordonKeepsNewOnesAwayAndAnEmptiedNodeCanBeRemoved() {
        namespace("alpha");
        fleet("alpha", "web", "binpack");
        var a = agent("a", Map.of(), 4, 8192).live();
        var ids = new ArrayList<String>();
        for (int i = 0; i < 2; i++) ids.add(machine("alpha", "web", ADMIN, small("w" + i)).path("id").asString());
        var stays = new java.util.HashMap<String, Object>(small("stays"));
        stays.put("restart", Map.of("policy", "no"));
        stays.put("guest", Map.of("cpus", 1, "memory_mb", 256));
        String pinned = machine("alpha", "web", ADMIN, stays).path("id").asString();
        var b = agent("b", Map.of(), 4, 8192).live();

        assertThat(http.post("/v1/nodes/" + b.id + "/cordon", ADMIN, null).json().path("state").asString())
                .isEqualTo("cordoned");
        var w2 = machine("alpha", "web", ADMIN, small("w2"));
        assertThat(w2.path("node_id").asString()).isEqualTo(a.id);
        ids.add(w2.path("id").asString());
        assertThat(http.post("/v1/nodes/" + b.id + "/uncordon", ADMIN, null).json().path("state").asString())
                .isEqualTo("ready");

        assertThat(http.post("/v1/nodes/" + a.id + "/drain", ADMIN, null).json().path("state").asString())
                .isEqualTo("draining");
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
            assertThat(a.assignedIds()).containsExactly(pinned);
            assertThat(b.assignedIds()).containsExactlyInAnyOrderElementsOf(ids);
            assertThat(http.get("/v1/namespaces/alpha/machines/" + pinned, ADMIN).json().path("desired_state")
                    .asString()).isEqualTo("stopped");
        });
        var list = http.get("/v1/namespaces/alpha/machines?state=running", ADMIN);
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(
                http.get("/v1/namespaces/alpha/machines?state=running", ADMIN).json()).hasSize(3));
        assertThat(list.status()).isEqualTo(200);

        // Removing a node: only a drained (or cordoned, or down) one that holds nothing any more.
        var ready = http.delete("/v1/nodes/" + b.id, ADMIN);
        assertThat(ready.status()).as("%s", ready).isEqualTo(409);
        assertThat(ready.errorMessage()).isEqualTo("remove node " + b.id + ": it is ready: cordon or drain it first, "
                + "or wait until it is down");
        var holding = http.delete("/v1/nodes/" + a.id, ADMIN);
        assertThat(holding.status()).as("%s", holding).isEqualTo(409);
        assertThat(holding.errorMessage()).contains("it still holds 1 machine(s) and 0 volume(s)");
        assertThat(http.delete("/v1/namespaces/alpha/machines/" + pinned, ADMIN).status()).isEqualTo(204);
        var removed = http.delete("/v1/nodes/" + a.id, ADMIN);
        assertThat(removed.status()).as("%s", removed).isEqualTo(204);
        assertThat(http.get("/v1/nodes/" + a.id, ADMIN).status()).isEqualTo(404);
        assertThat(http.get("/v1/nodes", ADMIN).json()).hasSize(1);
        assertThat(a.heartbeat().status()).as("the removed node's credential").isIn(401, 403, 404);
        assertThat(http.delete("/v1/nodes/" + a.id, ADMIN).status()).isEqualTo(404);
    }

    @Test
    void requestsAreParsedStrictly() {
        namespace("alpha");
        var unknown = http.post("/v1/namespaces/alpha/fleets", ADMIN, Map.of("name", "web", "colour", "red"));
        assertThat(unknown.status()).isEqualTo(400);
        assertThat(unknown.json().path("error").path("message").asString()).contains("unknown field 'colour'");
        assertThat(http.post("/v1/namespaces", ADMIN, Map.of("name", "Bad_Name")).errorCode())
                .isEqualTo("invalid_argument");
        assertThat(http.post("/v1/namespaces", ADMIN, Map.of("name", "alpha")).errorCode()).isEqualTo("conflict");
        fleet("alpha", "web", "spread");
        assertThat(createMachine("/v1/namespaces/alpha/fleets/web/machines", ADMIN, Map.of("image", "")).errorCode())
                .isEqualTo("invalid_argument");
        var noNode = createMachine("/v1/namespaces/alpha/fleets/web/machines", ADMIN, small("x"));
        assertThat(noNode.errorCode()).isEqualTo("failed_precondition");
        assertThat(noNode.json().path("error").path("message").asString()).contains("cluster has no nodes");
        var updated = http.put("/v1/namespaces/alpha/fleets/web", ADMIN, Map.of("strategy", "binpack"));
        assertThat(updated.json().path("strategy").asString()).isEqualTo("binpack");
        assertThat(http.delete("/v1/namespaces/alpha/fleets/web", ADMIN).status()).isEqualTo(204);
        assertThat(http.get("/v1/namespaces/alpha/fleets/web", ADMIN).status()).isEqualTo(404);
        var openapi = http.get("/v1/openapi.json", null).json();
        assertThat(openapi.path("openapi").asString()).startsWith("3.");
        assertThat(openapi.path("paths").propertyNames()).contains("/v1/namespaces/{ns}/fleets/{fleet}/machines",
                "/v1/nodes/{id}/drain", "/v1/namespaces/{ns}/machines/{id}/logs")
                .as("the node-to-server protocol is not published").doesNotContain("/v1/nodes/join",
                        "/v1/nodes/{id}/assignments", "/v1/nodes/{id}/heartbeat", "/v1/nodes/{id}/streams/{stream}");
    }

    // ---- fleet config: the template a fleet's machines are created from ----

    /** Creates fleet {@code name} of {@code ns} with machine config {@code config}. */
    JsonNode fleetWithConfig(String ns, String name, Map<String, Object> config) {
        var created = http.post("/v1/namespaces/" + ns + "/fleets", ADMIN, Map.of("name", name, "config", config));
        assertThat(created.status()).as("%s", created).isEqualTo(201);
        return created.json();
    }

    static final Map<String, Object> WEB_CONFIG = Map.of("image", "registry.test/web:1",
            "guest", Map.of("cpus", 1, "memory_mb", 384), "env", Map.of("A", "fleet", "B", "fleet"),
            "restart", Map.of("policy", "no"), "network", Map.of("egress", false),
            "metadata", Map.of("team", "web", "tier", "fleet"));

    @Test
    void aMachineIsCreatedFromItsFleetsConfigWithTheBodysFieldsOverItAndEnvMergedKeyByKey() {
        namespace("alpha");
        var fleet = fleetWithConfig("alpha", "web", WEB_CONFIG);
        assertThat(fleet.path("config").path("image").asString()).isEqualTo("registry.test/web:1");
        assertThat(fleet.path("config_version").asLong()).isEqualTo(1);
        var node = agent("n1", Map.of(), 8, 16384);

        var plain = createMachine("/v1/namespaces/alpha/fleets/web/machines", ADMIN, Map.of());
        assertThat(plain.status()).as("%s", plain).isEqualTo(201);
        var config = plain.json().path("config");
        assertThat(config.path("image").asString()).isEqualTo("registry.test/web:1");
        assertThat(config.path("guest").path("memory_mb").asInt()).isEqualTo(384);
        assertThat(config.path("env").path("A").asString()).isEqualTo("fleet");
        assertThat(config.path("env").path("B").asString()).isEqualTo("fleet");
        assertThat(config.path("restart").path("policy").asString()).isEqualTo("no");
        assertThat(config.path("network").path("egress").asBoolean()).isFalse();
        assertThat(plain.json().path("namespace").asString()).isEqualTo("alpha");
        assertThat(plain.json().path("config_version").asLong()).isEqualTo(1);

        var body = Map.<String, Object>of("name", "custom", "image", "registry.test/web:canary",
                "guest", Map.of("cpus", 2), "env", Map.of("B", "body", "C", "body"),
                "metadata", Map.of("tier", "canary"));
        var custom = machine("alpha", "web", ADMIN, body).path("config");
        assertThat(custom.path("image").asString()).isEqualTo("registry.test/web:canary");
        assertThat(custom.path("guest").path("cpus").asInt()).isEqualTo(2);
        assertThat(custom.path("guest").path("memory_mb").asInt())
                .as("a body's guest replaces the fleet's whole: memory is the default, not the fleet's")
                .isEqualTo(dev.bolero.core.MachineSpec.Guest.DEFAULT_MEMORY_MB);
        assertThat(custom.path("env").path("A").asString()).isEqualTo("fleet");
        assertThat(custom.path("env").path("B").asString()).isEqualTo("body");
        assertThat(custom.path("env").path("C").asString()).isEqualTo("body");
        assertThat(custom.path("restart").path("policy").asString()).isEqualTo("no");
        assertThat(custom.path("metadata").path("team").asString()).as("merged key by key").isEqualTo("web");
        assertThat(custom.path("metadata").path("tier").asString()).isEqualTo("canary");

        var assigned = new java.util.HashMap<String, JsonNode>();
        node.poll(0).path("machines").forEach(m -> assigned.put(m.path("name").asString(), m.path("config")));
        assertThat(assigned.get("custom")).isEqualTo(custom);
        assertThat(assigned.get(plain.json().path("name").asString())).isEqualTo(config);
    }

    @Test
    void aCreateWithAnImageNeitherInTheBodyNorTheFleetIsRefusedNamingImageAndAFleetConfigFollowsTheCreateRules() {
        namespace("alpha");
        fleet("alpha", "bare", "spread");
        fleetWithConfig("alpha", "envonly", Map.of("env", Map.of("A", "1")));
        agent("n1", Map.of(), 4, 8192);
        for (String fleet : List.of("bare", "envonly")) {
            var refused = createMachine("/v1/namespaces/alpha/fleets/" + fleet + "/machines", ADMIN, Map.of("name", "x"));
            assertThat(refused.status()).as("%s", refused).isEqualTo(400);
            assertThat(refused.errorCode()).isEqualTo("invalid_argument");
            assertThat(refused.json().path("error").path("message").asString()).contains("image is required");
        }
        assertThat(createMachine("/v1/namespaces/alpha/fleets/bare/machines", ADMIN, Map.of("image", "")).status())
                .isEqualTo(400);

        var badEnv = http.post("/v1/namespaces/alpha/fleets", ADMIN,
                Map.of("name", "bad", "config", Map.of("env", Map.of("X=Y", "1"))));
        assertThat(badEnv.status()).isEqualTo(400);
        assertThat(badEnv.json().path("error").path("message").asString()).contains("env name 'X=Y'");
        var twice = http.post("/v1/namespaces/alpha/fleets", ADMIN, Map.of("name", "bad", "config", Map.of(
                "services", List.of(Map.of("protocol", "tcp", "internal_port", 80, "port", 8080),
                        Map.of("protocol", "tcp", "internal_port", 81, "port", 8080)))));
        assertThat(twice.json().path("error").path("message").asString()).contains("tcp port 8080 is published twice");
        for (String field : List.of("name", "namespace", "region", "start")) {
            var refused = http.post("/v1/namespaces/alpha/fleets", ADMIN,
                    Map.of("name", "bad", "config", Map.of(field, "x")));
            assertThat(refused.status()).as(field).isEqualTo(400);
            assertThat(refused.json().path("error").path("message").asString()).contains("unknown field 'config." + field + "'");
        }
        assertThat(http.get("/v1/namespaces/alpha/fleets/bad", ADMIN).status()).isEqualTo(404);
        assertThat(http.get("/v1/namespaces/alpha/machines", ADMIN).json()).isEmpty();
    }

    @Test
    void anUpdatedConfigIsUsedByNewMachinesOnlyAndSurvivesARestart() throws Exception {
        namespace("alpha");
        fleetWithConfig("alpha", "web", WEB_CONFIG);
        agent("n1", Map.of(), 8, 16384);
        String old = machine("alpha", "web", ADMIN, Map.of("name", "old")).path("id").asString();

        var v2 = new java.util.HashMap<String, Object>(WEB_CONFIG);
        v2.put("image", "registry.test/web:2");
        var updated = http.put("/v1/namespaces/alpha/fleets/web", ADMIN, Map.of("strategy", "binpack", "config", v2));
        assertThat(updated.status()).as("%s", updated).isEqualTo(200);
        assertThat(updated.json().path("config").path("image").asString()).isEqualTo("registry.test/web:2");
        assertThat(updated.json().path("config_version").asLong()).isEqualTo(2);
        assertThat(updated.json().path("outdated_machines").asInt()).isEqualTo(1);
        var placementOnly = http.put("/v1/namespaces/alpha/fleets/web", ADMIN, Map.of("strategy", "spread",
                "config", v2));
        assertThat(placementOnly.json().path("config_version").asLong())
                .as("an update that leaves the config as it is keeps its version").isEqualTo(2);

        var fresh = machine("alpha", "web", ADMIN, Map.of("name", "new"));
        assertThat(fresh.path("config").path("image").asString()).isEqualTo("registry.test/web:2");
        assertThat(fresh.path("config_version").asLong()).isEqualTo(2);
        var kept = http.get("/v1/namespaces/alpha/machines/" + old, ADMIN).json();
        assertThat(kept.path("config").path("image").asString()).isEqualTo("registry.test/web:1");
        assertThat(kept.path("config_version").asLong()).isEqualTo(1);

        server.close();
        server = Server.start(config(dataDir, db));
        http = new Http(server.port());
        var fleet = http.get("/v1/namespaces/alpha/fleets/web", ADMIN).json();
        assertThat(fleet.path("config").path("image").asString()).isEqualTo("registry.test/web:2");
        assertThat(fleet.path("config").path("env").path("A").asString()).isEqualTo("fleet");
        assertThat(fleet.path("config_version").asLong()).isEqualTo(2);
        assertThat(fleet.path("outdated_machines").asInt()).isEqualTo(1);
        assertThat(http.get("/v1/namespaces/alpha/machines/" + old, ADMIN).json().path("config_version").asLong())
                .isEqualTo(1);
        assertThat(http.get("/v1/namespaces/alpha/fleets", ADMIN).json().get(0).path("outdated_machines").asInt())
                .isEqualTo(1);
        assertThat(http.delete("/v1/namespaces/alpha/machines/" + old, ADMIN).status()).isEqualTo(204);
        assertThat(http.get("/v1/namespaces/alpha/fleets/web", ADMIN).json().path("outdated_machines").asInt())
                .isZero();
    }

    @Test
    void aDeployReplacesTheFleetsMachinesContinuesAcrossAServerRestartAndASecondOneIsAConflict() throws Exception {
        namespace("alpha");
        FakeAgent node = agent("n1", Map.of(), 8, 16384).live();
        var v1 = new java.util.HashMap<String, Object>(WEB_CONFIG);
        v1.put("restart", Map.of("policy", "on-failure"));
        var created = http.post("/v1/namespaces/alpha/fleets", ADMIN, Map.of("name", "web", "count", 3,
                "config", v1));
        assertThat(created.status()).as("%s", created).isEqualTo(201);
        await().atMost(Duration.ofSeconds(30)).until(() -> fleetMachines("web").size() == 3
                && fleetMachines("web").stream().allMatch(m -> m.path("state").asString().equals("running")));

        var v2 = new java.util.HashMap<String, Object>(v1);
        v2.put("image", "registry.test/web:2");
        var started = http.post("/v1/namespaces/alpha/fleets/web/deployments", ADMIN, Map.of("config", v2,
                "strategy", "rolling", "max_unavailable", 1));
        assertThat(started.status()).as("%s", started).isEqualTo(201);
        assertThat(started.json().path("status").asString()).isEqualTo("running");
        assertThat(started.json().path("from_version").asLong()).isEqualTo(1);
        assertThat(started.json().path("to_version").asLong()).isEqualTo(2);
        String id = started.json().path("id").asString();
        var second = http.post("/v1/namespaces/alpha/fleets/web/deployments", ADMIN, Map.of("version", 1));
        assertThat(second.status()).as("%s", second).isEqualTo(409);
        assertThat(second.body()).contains("deployment " + id + " is still running");

        // The server goes away mid-deploy; the one that takes its place (same store, same port) carries it on.
        int port = server.port();
        node.silence();
        server.close();
        server = Server.start(config(dataDir, db, port));
        http = new Http(server.port());
        node.live();
        await().atMost(Duration.ofSeconds(60)).until(() -> http.get("/v1/namespaces/alpha/fleets/web/deployments/"
                + id, ADMIN).json().path("status").asString().equals("succeeded"));
        assertThat(fleetMachines("web")).hasSize(3).allSatisfy(m -> {
            assertThat(m.path("config_version").asLong()).isEqualTo(2);
            assertThat(m.path("config").path("image").asString()).isEqualTo("registry.test/web:2");
        });
        var releases = http.get("/v1/namespaces/alpha/fleets/web/releases", ADMIN).json();
        assertThat(releases.size()).isEqualTo(2);
        assertThat(releases.get(0).path("version").asLong()).isEqualTo(2);
        assertThat(releases.get(0).path("current").asBoolean()).isTrue();
        assertThat(releases.get(1).path("config").path("image").asString()).isEqualTo("registry.test/web:1");
        assertThat(http.get("/v1/namespaces/alpha/fleets/web/deployments", ADMIN).json().size()).isEqualTo(1);
        // Its steps, across both servers: each machine replaced and its replacement healthy, then the end.
        var steps = new ArrayList<String>();
        http.get("/v1/namespaces/alpha/fleets/web/deployments/" + id, ADMIN).json().path("steps").forEach(s -> {
            assertThat(s.path("at").asString()).isNotEmpty();
            assertThat(s.path("message").asString()).isNotEmpty();
            steps.add(s.path("kind").asString());
        });
        assertThat(steps.getFirst()).isEqualTo("started");
        assertThat(steps.getLast()).isEqualTo("succeeded");
        assertThat(steps).filteredOn("replacing"::equals).hasSize(3);
        assertThat(steps).filteredOn("healthy"::equals).hasSize(3);

        var noCount = http.post("/v1/namespaces/alpha/fleets", ADMIN, Map.of("name", "byhand", "config", WEB_CONFIG));
        assertThat(noCount.status()).isEqualTo(201);
        var refused = http.post("/v1/namespaces/alpha/fleets/byhand/deployments", ADMIN, Map.of("version", 1));
        assertThat(refused.errorCode()).isEqualTo("failed_precondition");
        var neither = http.post("/v1/namespaces/alpha/fleets/web/deployments", ADMIN, Map.of("strategy", "canary"));
        assertThat(neither.errorCode()).isEqualTo("invalid_argument");
    }

    // ---- streams: logs, events and exec relayed from the machine's node ----

    private static final HttpClient PUBLIC = HttpClient.newHttpClient();

    /** A public streaming request to {@code port}, answered once its headers come. */
    static CompletableFuture<HttpResponse<InputStream>> openStream(int port, String method, String path,
                                                                    String token, String body) {
        var request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .header("Authorization", "Bearer " + token)
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(body))
                .build();
        return PUBLIC.sendAsync(request, HttpResponse.BodyHandlers.ofInputStream());
    }

    /** A machine placed on a fresh live fake agent. */
    record Placed(FakeAgent agent, String id) {}

    Placed placedMachine(String ns) {
        namespace(ns);
        fleet(ns, "web", "spread");
        var agent = agent("n-" + ns, Map.of(), 8, 16384).live();
        return new Placed(agent, machine(ns, "web", ADMIN, small("m1")).path("id").asString());
    }

    @Test
    void followedLogsAreAskedOfTheMachinesNodeAndItsBytesFlowToTheClientAsTheyCome() throws Exception {
        var placed = placedMachine("alpha");
        var client = openStream(server.port(), "GET", "/v1/namespaces/alpha/machines/" + placed.id()
                + "/logs?follow=true&tail=5&bogus=1", ADMIN, null);
        JsonNode stream = placed.agent().nextStream();
        assertThat(stream.path("kind").asString()).isEqualTo("logs");
        assertThat(stream.path("machine_id").asString()).isEqualTo(placed.id());
        assertThat(stream.path("params").properties()).extracting(Map.Entry::getKey)
                .as("only the node API's log parameters").containsExactlyInAnyOrder("follow", "tail");
        assertThat(stream.path("server").asString()).isEqualTo("http://127.0.0.1:" + server.port());

        try (var node = new PipedOutputStream(); var nodeBody = new PipedInputStream(node, 65536)) {
            var upload = placed.agent().answer(stream, 200, "text/plain; charset=utf-8", nodeBody);
            node.write("one\n".getBytes(StandardCharsets.UTF_8));
            node.flush();
            var response = client.get(30, TimeUnit.SECONDS);
            assertThat(response.statusCode()).as("status of the logs request").isEqualTo(200);
            assertThat(response.headers().firstValue("Content-Type")).hasValueSatisfying(t -> assertThat(t)
                    .startsWith("text/plain"));
            var lines = new BufferedReader(new InputStreamReader(response.body(), StandardCharsets.UTF_8));
            assertThat(lines.readLine()).as("a line before the node's stream ends").isEqualTo("one");
            node.write("two\n".getBytes(StandardCharsets.UTF_8));
            node.flush();
            assertThat(lines.readLine()).isEqualTo("two");
            node.close();
            assertThat(lines.readLine()).as("the end of the node's stream ends the client's").isNull();
            assertThat(upload.get(30, TimeUnit.SECONDS).statusCode()).isEqualTo(204);
        }
        assertThat(placed.agent().poll(0).path("streams")).as("an answered stream is not asked again").isEmpty();
    }

    @Test
    void aNodeFoundDownEndsItsStreams() throws Exception {
        var placed = placedMachine("alpha");
        var client = openStream(server.port(), "GET", "/v1/namespaces/alpha/machines/" + placed.id()
                + "/logs?follow=true", ADMIN, null);
        JsonNode stream = placed.agent().nextStream();
        try (var node = new PipedOutputStream(); var nodeBody = new PipedInputStream(node, 65536)) {
            var upload = placed.agent().answer(stream, 200, "text/plain; charset=utf-8", nodeBody);
            node.write("one\n".getBytes(StandardCharsets.UTF_8));
            node.flush();
            var lines = new BufferedReader(new InputStreamReader(client.get(30, TimeUnit.SECONDS).body(),
                    StandardCharsets.UTF_8));
            assertThat(lines.readLine()).isEqualTo("one");
            placed.agent().silence();    // its host is gone, and no connection reset says so
            await().atMost(Duration.ofSeconds(30)).until(() -> upload.isDone());
            try {
                assertThat(lines.readLine()).as("the client's stream ends").isNull();
            } catch (IOException e) {
                // ended by a reset: as good
            }
        }
    }

    @Test
    void aClientLeavingAFollowEndsTheAgentsUpload() throws Exception {
        var placed = placedMachine("alpha");
        var client = openStream(server.port(), "GET", "/v1/namespaces/alpha/machines/" + placed.id()
                + "/logs?follow=true", ADMIN, null);
        JsonNode stream = placed.agent().nextStream();
        var node = new PipedOutputStream();
        var nodeBody = new PipedInputStream(node, 65536);
        var upload = placed.agent().answer(stream, 200, "text/plain; charset=utf-8", nodeBody);
        // The workload keeps logging, a line every 50 ms.
        var logging = Thread.ofVirtual().start(() -> {
            try {
                for (int i = 0; !Thread.currentThread().isInterrupted(); i++) {
                    node.write(("line " + i + "\n").getBytes(StandardCharsets.UTF_8));
                    node.flush();
                    Thread.sleep(50);
                }
            } catch (IOException | InterruptedException e) {
                // the upload is over
            }
        });
        try {
            var response = client.get(30, TimeUnit.SECONDS);
            var lines = new BufferedReader(new InputStreamReader(response.body(), StandardCharsets.UTF_8));
            assertThat(lines.readLine()).isEqualTo("line 0");
            response.body().close();
            assertThat(upload.get(30, TimeUnit.SECONDS).statusCode()).as("the server ended the agent's upload")
                    .isEqualTo(204);
        } finally {
            logging.interrupt();
            nodeBody.close();
            logging.join();
        }
    }

    @Test
    void aStreamNoAgentAnswersFailsWith503WithinTheBoundAndIsWithdrawn() throws Exception {
        var placed = placedMachine("alpha");
        var response = client(openStream(server.port(), "GET", "/v1/namespaces/alpha/machines/" + placed.id()
                + "/events", ADMIN, null));
        assertThat(response.status()).as("%s", response).isEqualTo(503);
        assertThat(response.errorCode()).isEqualTo("unavailable");
        assertThat(response.json().path("error").path("message").asString())
                .contains("events of machine " + placed.id(), placed.agent().id, "did not answer within 2 s");
        JsonNode stream = placed.agent().nextStream();
        assertThat(stream.path("kind").asString()).isEqualTo("events");
        assertThat(placed.agent().poll(0).path("streams")).as("the withdrawn request").isEmpty();
        var late = placed.agent().answer(stream, 200, "application/json",
                new java.io.ByteArrayInputStream("[]".getBytes(StandardCharsets.UTF_8))).get(30, TimeUnit.SECONDS);
        assertThat(late.statusCode()).as("a late answer: %s", late.body()).isEqualTo(404);
    }

    @Test
    void execAndEventsAreRelayedWithTheNodesStatusAndOtherNamespacesGet404WithoutAStream() throws Exception {
        var placed = placedMachine("alpha");
        namespace("beta");
        String beta = http.post("/v1/namespaces/beta/tokens", ADMIN, null).json().path("token").asString();

        var exec = openStream(server.port(), "POST", "/v1/namespaces/alpha/machines/" + placed.id() + "/exec",
                ADMIN, "{\"cmd\": [\"echo\", \"hi\"]}");
        JsonNode stream = placed.agent().nextStream();
        assertThat(stream.path("kind").asString()).isEqualTo("exec");
        assertThat(ApiJson.mapper().readTree(stream.path("body").asString()).path("cmd").get(1).asString())
                .isEqualTo("hi");
        String result = "{\"exit_code\":0,\"stdout\":\"hi\\n\",\"stderr\":\"\",\"timed_out\":false,"
                + "\"truncated\":false}";
        placed.agent().answer(stream, 200, "application/json",
                new java.io.ByteArrayInputStream(result.getBytes(StandardCharsets.UTF_8)));
        var executed = client(exec);
        assertThat(executed.status()).isEqualTo(200);
        assertThat(executed.json().path("stdout").asString()).isEqualTo("hi\n");

        var events = openStream(server.port(), "GET", "/v1/namespaces/alpha/machines/" + placed.id() + "/events",
                ADMIN, null);
        String missing = "{\"error\":{\"code\":\"not_found\",\"message\":\"no machine " + placed.id() + "\"}}";
        placed.agent().answer(placed.agent().nextStream(), 404, "application/json",
                new java.io.ByteArrayInputStream(missing.getBytes(StandardCharsets.UTF_8)));
        var failed = client(events);
        assertThat(failed.status()).isEqualTo(404);
        assertThat(failed.body()).as("the node's error, whole").isEqualTo(missing);

        var stats = openStream(server.port(), "GET", "/v1/namespaces/alpha/machines/" + placed.id()
                + "/stats?window_s=60", ADMIN, null);
        JsonNode statsStream = placed.agent().nextStream();
        assertThat(statsStream.path("kind").asString()).isEqualTo("stats");
        assertThat(statsStream.path("params").path("window_s").asString()).isEqualTo("60");
        String sample = "{\"machine_id\":\"" + placed.id() + "\",\"samples\":[{\"time\":\"2026-12-02T12:00:00Z\","
                + "\"cpu\":{\"seconds\":1.5},\"memory\":{\"bytes\":10,\"limit_bytes\":20},\"network\":{\"rx_bytes\":1,"
                + "\"tx_bytes\":2,\"rx_packets\":3,\"tx_packets\":4},\"disk\":{\"read_bytes\":5,\"write_bytes\":6}}]}";
        placed.agent().answer(statsStream, 200, "application/json",
                new java.io.ByteArrayInputStream(sample.getBytes(StandardCharsets.UTF_8)));
        var sampled = client(stats);
        assertThat(sampled.status()).as("%s", sampled).isEqualTo(200);
        assertThat(sampled.json().path("samples").get(0).path("cpu").path("seconds").asDouble()).isEqualTo(1.5);
        assertThat(http.get("/v1/namespaces/alpha/machines/" + placed.id() + "/stats?window_s=3601", ADMIN)
                .errorCode()).as("refused before any stream").isEqualTo("invalid_argument");

        for (String path : List.of("/logs", "/events", "/stats")) {
            var foreign = http.get("/v1/namespaces/alpha/machines/" + placed.id() + path, beta);
            var inOwn = http.get("/v1/namespaces/beta/machines/" + placed.id() + path, beta);
            assertThat(foreign.status()).as("%s", foreign).isEqualTo(404);
            assertThat(inOwn.status()).as("%s", inOwn).isEqualTo(404);
        }
        var badExec = http.post("/v1/namespaces/alpha/machines/" + placed.id() + "/exec", ADMIN, Map.of("cmd", List.of()));
        assertThat(badExec.status()).isEqualTo(400);
        assertThat(placed.agent().poll(0).path("streams")).as("no stream for refused requests").isEmpty();
        assertThat(placed.agent().streams).isEmpty();
    }

    @Test
    void aStreamHeldByOneReplicaIsAnsweredToItWhateverReplicaTheAgentPolls() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(db.isPresent(), "several replicas need PostgreSQL");
        try (Server other = Server.start(config(dataDir.resolve("other"), db))) {
            var placed = placedMachine("alpha");    // the agent polls the first replica
            var client = openStream(other.port(), "GET", "/v1/namespaces/alpha/machines/" + placed.id() + "/logs",
                    ADMIN, null);
            JsonNode stream = placed.agent().nextStream();
            assertThat(stream.path("server").asString()).isEqualTo("http://127.0.0.1:" + other.port());
            var upload = placed.agent().answer(stream, 200, "text/plain; charset=utf-8",
                    new java.io.ByteArrayInputStream("from the node\n".getBytes(StandardCharsets.UTF_8)));
            var response = client(client);
            assertThat(response.status()).isEqualTo(200);
            assertThat(response.body()).isEqualTo("from the node\n");
            assertThat(upload.get(30, TimeUnit.SECONDS).statusCode()).isEqualTo(204);
        }
    }

    WebSocket socket(int port, String path, String token, WebSocketInbox listener) throws Exception {
        return PUBLIC.newWebSocketBuilder().header("Authorization", "Bearer " + token)
                .buildAsync(URI.create("ws://127.0.0.1:" + port + path), listener).get(30, TimeUnit.SECONDS);
    }

    @Test
    void anInteractiveExecIsBridgedMessageForMessageToASocketItsAgentOpens() throws Exception {
        var placed = placedMachine("alpha");
        String path = "/v1/namespaces/alpha/machines/" + placed.id() + "/exec";
        var atClient = new WebSocketInbox();
        WebSocket client = socket(server.port(), path, ADMIN, atClient);
        client.sendText("{\"cmd\": [\"sh\"], \"tty\": true, \"rows\": 24, \"cols\": 80}", true).get();
        client.sendBinary(ByteBuffer.wrap("ls\n".getBytes(StandardCharsets.UTF_8)), true).get();

        JsonNode stream = placed.agent().nextStream();
        assertThat(stream.path("kind").asString()).isEqualTo("exec_ws");
        var atAgent = new WebSocketInbox();
        WebSocket agent = placed.agent().answerSocket(stream, atAgent);
        assertThat(atAgent.next()).as("what the client sent before the agent came, in order")
                .isEqualTo("text:{\"cmd\": [\"sh\"], \"tty\": true, \"rows\": 24, \"cols\": 80}");
        assertThat(atAgent.next()).isEqualTo("binary:ls\n");
        client.sendText("{\"resize\": {\"rows\": 50, \"cols\": 120}}", true).get();
        assertThat(atAgent.next()).isEqualTo("text:{\"resize\": {\"rows\": 50, \"cols\": 120}}");

        agent.sendBinary(ByteBuffer.wrap("bin\r\netc\r\n".getBytes(StandardCharsets.UTF_8)), true).get();
        agent.sendText("{\"exit_code\":0}", true).get();
        agent.sendClose(1000, "exited").get();
        assertThat(atClient.next()).isEqualTo("binary:bin\r\netc\r\n");
        assertThat(atClient.next()).isEqualTo("text:{\"exit_code\":0}");
        assertThat(atClient.next()).isEqualTo("close:1000:exited");
        assertThat(http.get("/v1/namespaces/alpha/audit?action=execInMachine", ADMIN).json())
                .as("the session is in the audit log").singleElement()
                .satisfies(e -> assertThat(e.path("status").asInt()).isEqualTo(101))
                .satisfies(e -> assertThat(e.path("object").asString()).isEqualTo(path));
    }

    @Test
    void anInteractiveExecRelayStopsReadingTheAgentWhileTheClientDoesNotReadAndStillTakesTheClientsInput()
            throws Exception {
        var placed = placedMachine("alpha");
        var atClient = new Counting();
        WebSocket client = PUBLIC.newWebSocketBuilder().header("Authorization", "Bearer " + ADMIN)
                .buildAsync(URI.create("ws://127.0.0.1:" + server.port() + "/v1/namespaces/alpha/machines/"
                        + placed.id() + "/exec"), atClient).get(30, TimeUnit.SECONDS);
        client.sendText("{\"cmd\": [\"sh\"]}", true).get();
        JsonNode stream = placed.agent().nextStream();
        var atAgent = new WebSocketInbox();
        WebSocket agent = placed.agent().answerSocket(stream, atAgent);
        assertThat(atAgent.next()).isEqualTo("text:{\"cmd\": [\"sh\"]}");

        // The agent sends 64 MiB in 256 KiB messages, each once the last went out, to a client that reads nothing.
        int messages = 256;
        var sent = new AtomicLong();
        var sender = Thread.ofVirtual().start(() -> {
            byte[] chunk = new byte[256 * 1024];
            for (int i = 0; i < messages; i++) {
                agent.sendBinary(ByteBuffer.wrap(chunk), true).join();
                sent.addAndGet(chunk.length);
            }
        });
        long[] last = {-1};
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500)).until(() -> {
            boolean still = sent.get() == last[0];
            last[0] = sent.get();
            return still && last[0] > 0;
        });
        assertThat(last[0]).as("bytes the agent got out while the client read nothing").isLessThan(32L << 20);

        client.sendText("{\"signal\": \"INT\"}", true).get();
        assertThat(atAgent.next()).as("the client's input still goes through").isEqualTo("text:{\"signal\": \"INT\"}");

        atClient.resume(client);
        sender.join(Duration.ofSeconds(120));
        await().atMost(Duration.ofSeconds(120)).until(() -> atClient.bytes.get() == (long) messages * 256 * 1024);
        agent.sendClose(1000, "exited").get();
    }

    /** Counts binary bytes; reads nothing until {@link #resume}. */
    private static final class Counting implements WebSocket.Listener {
        final AtomicLong bytes = new AtomicLong();

        @Override
        public void onOpen(WebSocket ws) {
            // no request: nothing is read until resume
        }

        void resume(WebSocket ws) {
            ws.request(1);
        }

        @Override
        public CompletionStage<?> onBinary(WebSocket ws, ByteBuffer data, boolean last) {
            bytes.addAndGet(data.remaining());
            ws.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
            ws.request(1);
            return null;
        }
    }

    @Test
    void anInteractiveExecNoAgentAnswersIsClosedAsUnavailableAndOtherNamespacesCannotOpenOne() throws Exception {
        var placed = placedMachine("alpha");
        String path = "/v1/namespaces/alpha/machines/" + placed.id() + "/exec";
        var atClient = new WebSocketInbox();
        socket(server.port(), path, ADMIN, atClient);
        assertThat(placed.agent().nextStream().path("kind").asString()).isEqualTo("exec_ws");
        assertThat(atClient.next()).startsWith("close:1011:unavailable: exec_ws of machine " + placed.id());

        namespace("beta");
        String beta = http.post("/v1/namespaces/beta/tokens", ADMIN, null).json().path("token").asString();
        for (String p : List.of(path, "/v1/namespaces/beta/machines/" + placed.id() + "/exec")) {
            assertThatThrownBy(() -> socket(server.port(), p, beta, new WebSocketInbox()))
                    .cause().isInstanceOfSatisfying(java.net.http.WebSocketHandshakeException.class, e -> {
                        assertThat(e.getResponse().statusCode()).isEqualTo(404);
                        // the refusal carries the API's error, so a client can say more than "HTTP 404"
                        assertThat(ApiJson.mapper().readTree((String) e.getResponse().body())
                                .path("error").path("code").asString()).isEqualTo("not_found");
                    });
        }
        assertThat(placed.agent().poll(0).path("streams")).as("no stream for a refused socket").isEmpty();
    }

    /** The whole answer of a public streaming request. */
    static Http.Response client(CompletableFuture<HttpResponse<InputStream>> pending) throws Exception {
        var response = pending.get(60, TimeUnit.SECONDS);
        try (InputStream in = response.body()) {
            return new Http.Response(response.statusCode(), new String(in.readAllBytes(), StandardCharsets.UTF_8));
        }
    }

    @Test
    void mutatingCallsAreAuditedInAHashChainPerNamespaceThatFindsTampering() throws Exception {
        namespace("audited");
        namespace("bystander");
        String token = http.post("/v1/namespaces/audited/tokens", ADMIN, null).json().path("token").asString();
        String bystander = http.post("/v1/namespaces/bystander/tokens", ADMIN, null).json().path("token").asString();
        String secrets = "/v1/namespaces/audited/secrets";
        assertThat(http.post(secrets, token, Map.of("name", "A", "value", "v1")).status()).isEqualTo(201);
        assertThat(http.post(secrets, token, Map.of("name", "A", "value", "v2")).status()).isEqualTo(409);
        assertThat(http.get(secrets, token).status()).isEqualTo(200); // a read is not audited
        assertThat(http.delete(secrets + "/A", "not-a-token").status()).isEqualTo(401); // nor a call by nobody
        assertThat(http.delete(secrets + "/A", token).status()).isEqualTo(204);

        var answer = http.get("/v1/namespaces/audited/audit", token);
        assertThat(answer.body()).doesNotContain(token, ADMIN);
        List<dev.bolero.api.wire.AuditEntry> chain = List.of(ApiJson.mapper().readValue(answer.body(),
                dev.bolero.api.wire.AuditEntry[].class));
        assertThat(chain).extracting(dev.bolero.api.wire.AuditEntry::action)
                .containsExactly("createToken", "createSecret", "createSecret", "deleteSecret");
        assertThat(chain).extracting(dev.bolero.api.wire.AuditEntry::status).containsExactly(201, 201, 409, 204);
        assertThat(chain).extracting(dev.bolero.api.wire.AuditEntry::seq).containsExactly(1L, 2L, 3L, 4L);
        assertThat(chain.get(3).object()).isEqualTo(secrets + "/A");
        assertThat(chain.get(3).source()).isEqualTo("127.0.0.1");
        assertThat(chain.get(1).tokenId()).isNotBlank().isNotEqualTo(chain.get(0).tokenId()); // tenant, then admin
        assertThat(dev.bolero.api.wire.AuditEntry.verify(chain)).isEmpty();

        // filters and pages
        assertThat(http.get("/v1/namespaces/audited/audit?action=createSecret", token).json()).hasSize(2);
        var page = http.get("/v1/namespaces/audited/audit?cursor=2&limit=1", token).json();
        assertThat(page).hasSize(1);
        assertThat(page.get(0).path("seq").asLong()).isEqualTo(3);
        assertThat(http.get("/v1/namespaces/audited/audit?since=2000-01-01T00:00:00Z&until=2000-01-02T00:00:00Z",
                token).json()).isEmpty();
        assertThat(http.get("/v1/namespaces/audited/audit?since=yesterday", token).errorCode())
                .isEqualTo("invalid_argument");
        // other tenants see neither this log nor the cluster's; the admin sees the cluster's
        assertThat(http.get("/v1/namespaces/audited/audit", bystander).status()).isEqualTo(404);
        assertThat(http.get("/v1/audit", token).errorCode()).isEqualTo("permission_denied");
        assertThat(http.get("/v1/audit?action=createNamespace", ADMIN).json()).extracting(n -> n.path("object")
                .asString()).containsExactly("/v1/namespaces", "/v1/namespaces");

        // an entry altered, or removed, in the database breaks the chain from there on
        try (var raw = rawConnection(); var statement = raw.createStatement()) {
            statement.executeUpdate("UPDATE audit SET status = 201 WHERE chain = 'audited' AND seq = 3");
        }
        var altered = List.of(ApiJson.mapper().readValue(http.get("/v1/namespaces/audited/audit", token).body(),
                dev.bolero.api.wire.AuditEntry[].class));
        assertThat(dev.bolero.api.wire.AuditEntry.verify(altered)).get()
                .extracting(dev.bolero.api.wire.AuditEntry.Break::seq).isEqualTo(3L);
        try (var raw = rawConnection(); var statement = raw.createStatement()) {
            statement.executeUpdate("DELETE FROM audit WHERE chain = 'audited' AND seq = 2");
        }
        var cut = List.of(ApiJson.mapper().readValue(http.get("/v1/namespaces/audited/audit", token).body(),
                dev.bolero.api.wire.AuditEntry[].class));
        assertThat(dev.bolero.api.wire.AuditEntry.verify(cut)).get().extracting(b -> b.reason())
                .asString().contains("expected entry 2, found 3");
    }

    @Test
    void aCreatedMachinesCallIsAuditedOnceWithTheMachineAndARefusedCreateAfterItsAnswer() throws Exception {
        namespace("audited");
        fleet("audited", "web", "spread");
        agent("n1", Map.of(), 2, 4096).live();
        String path = "/v1/namespaces/audited/fleets/web/machines";
        String placed = machine("audited", "web", ADMIN, small("m1")).path("id").asString();
        var taken = createMachine(path, ADMIN, small("m1"));
        assertThat(taken.status()).as("%s", taken).isEqualTo(409);
        var tooBig = createMachine(path, ADMIN, Map.of("name", "m2", "image", "busybox", "start", true,
                "guest", Map.of("cpus", 64, "memory_mb", 256)));
        assertThat(tooBig.status()).as("%s", tooBig).isEqualTo(400);

        List<dev.bolero.api.wire.AuditEntry> chain = List.of(ApiJson.mapper().readValue(
                http.get("/v1/namespaces/audited/audit", ADMIN).body(), dev.bolero.api.wire.AuditEntry[].class));
        assertThat(chain).extracting(dev.bolero.api.wire.AuditEntry::action)
                .containsExactly("createFleet", "createMachine", "createMachine", "createMachine");
        assertThat(chain).extracting(dev.bolero.api.wire.AuditEntry::status).containsExactly(201, 201, 409, 400);
        assertThat(chain).extracting(dev.bolero.api.wire.AuditEntry::object).containsOnly(
                "/v1/namespaces/audited/fleets", path);
        assertThat(chain.get(1).tokenId()).isNotBlank();
        assertThat(chain.get(1).source()).isEqualTo("127.0.0.1");
        assertThat(dev.bolero.api.wire.AuditEntry.verify(chain)).isEmpty();
        assertThat(http.get("/v1/namespaces/audited/machines/" + placed, ADMIN).status()).isEqualTo(200);
    }

    @Test
    void aNamespaceAdminTokenMintsListsAndRevokesItsNamespacesTokensAndExpiredOrRevokedTokensStopWorking()
            throws Exception {
        namespace("gamma");
        namespace("delta");
        var minted = http.post("/v1/namespaces/gamma/tokens", ADMIN, Map.of("role", "admin", "expires_in_s", 3600,
                "description", "ops"));
        assertThat(minted.status()).as("%s", minted).isEqualTo(201);
        String nsAdmin = minted.json().path("token").asString();
        assertThat(minted.json().path("role").asString()).isEqualTo("admin");
        assertThat(minted.json().path("expires_at").asString()).isNotBlank();

        var member = http.post("/v1/namespaces/gamma/tokens", nsAdmin, null);
        assertThat(member.status()).as("the namespace's admin mints: %s", member).isEqualTo(201);
        String memberToken = member.json().path("token").asString();
        String memberId = member.json().path("id").asString();
        assertThat(member.json().path("role").asString()).isEqualTo("member");
        assertThat(http.get("/v1/namespaces/gamma/fleets", memberToken).status()).isEqualTo(200);

        var listed = http.get("/v1/namespaces/gamma/tokens", nsAdmin);
        assertThat(listed.json()).extracting(t -> t.path("role").asString()).containsExactlyInAnyOrder("admin", "member");
        assertThat(listed.body()).doesNotContain(nsAdmin, memberToken).contains("ops");
        for (var refused : List.of(http.get("/v1/namespaces/gamma/tokens", memberToken),
                http.post("/v1/namespaces/gamma/tokens", memberToken, null),
                http.delete("/v1/namespaces/gamma/tokens/" + memberId, memberToken))) {
            assertThat(refused.errorCode()).as("a member token: %s", refused).isEqualTo("permission_denied");
        }
        assertThat(http.get("/v1/namespaces/delta/tokens", nsAdmin).status()).as("another namespace").isEqualTo(404);
        assertThat(http.post("/v1/namespaces/gamma/tokens", ADMIN, Map.of("expires_in_s", 5)).errorMessage())
                .contains("expires_in_s must be 60 to");

        assertThat(http.delete("/v1/namespaces/gamma/tokens/" + memberId, nsAdmin).status()).isEqualTo(204);
        assertThat(http.get("/v1/namespaces/gamma/fleets", memberToken).status()).as("revoked").isEqualTo(401);
        assertThat(http.delete("/v1/namespaces/gamma/tokens/" + memberId, nsAdmin).status()).isEqualTo(404);

        // The expiry is moved behind the server's back, as another replica's change would be: a token the server has
        // not read yet (it keeps credentials it read for 5 s) sees it at once.
        String unused = http.post("/v1/namespaces/gamma/tokens", ADMIN, Map.of("expires_in_s", 3600)).json()
                .path("token").asString();
        try (var raw = rawConnection(); var statement = raw.createStatement()) {
            statement.executeUpdate("UPDATE tokens SET expires_at = 1 WHERE namespace = 'gamma'");
        }
        var expired = http.get("/v1/namespaces/gamma/fleets", unused);
        assertThat(expired.status()).isEqualTo(401);
        assertThat(expired.errorMessage()).contains("the token expired at 1970-01-01T00:00:00.001Z");
    }

    @Test
    void aNamespaceTokenOverItsRateGets429WithRetryAfterAndOtherTokensAreNotSlowed() throws Exception {
        server.close();
        server = Server.start(config(dataDir, db).withTenantRate(new ServerConfig.RateLimit(1, 3)));
        http = new Http(server.port());
        namespace("busy");
        String busy = http.post("/v1/namespaces/busy/tokens", ADMIN, null).json().path("token").asString();
        String calm = http.post("/v1/namespaces/busy/tokens", ADMIN, null).json().path("token").asString();
        var answers = new ArrayList<Http.Response>();
        for (int i = 0; i < 20; i++) answers.add(http.get("/v1/namespaces/busy/fleets", busy));
        assertThat(answers.getFirst().status()).isEqualTo(200);
        var limited = answers.getLast();
        assertThat(limited.status()).as("%s", limited).isEqualTo(429);
        assertThat(limited.errorCode()).isEqualTo("rate_limited");
        assertThat(Integer.parseInt(limited.header("Retry-After").orElseThrow())).isBetween(1, 2);
        assertThat(http.get("/v1/namespaces/busy/fleets", calm).status()).as("another token").isEqualTo(200);
        assertThat(http.get("/v1/namespaces/busy/fleets", ADMIN).status()).as("the admin").isEqualTo(200);
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
                assertThat(http.get("/v1/namespaces/busy/fleets", busy).status()).as("refilled").isEqualTo(200));
    }

    @Test
    void theServersMetricsCountPlacementsReconciliationsAndMachinesByState() {
        placedMachine("alpha");
        var refused = http.post("/v1/namespaces/alpha/fleets/web/machines", ADMIN, Map.of("config",
                Map.of("image", "busybox", "guest", Map.of("cpus", 64, "memory_mb", 256))));
        assertThat(refused.status()).as("%s", refused).isIn(400, 409);
        await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> assertThat(http.get("/metrics", null).body())
                .containsPattern("bolero_scheduler_placements_total\\{[^}]*kind=\"create\"[^}]*outcome=\"placed\"[^}]*} [1-9]")
                .containsPattern("bolero_scheduler_placements_total\\{[^}]*kind=\"create\"[^}]*outcome=\"refused\"[^}]*} [1-9]")
                .containsPattern("bolero_reconciler_pass_seconds_count\\{[^}]*} [1-9]")
                .containsPattern("bolero_reconciler_lag_seconds\\{[^}]*} [0-9.]+")
                .containsPattern("bolero_cluster_machines\\{[^}]*state=\"(created|starting|running)\"[^}]*} [1-9]"));
    }

    @Test
    void aSuspendedMachineKeepsItsNodeAndItsShareAndAStartResumesItThere() throws Exception {
        namespace("alpha");
        fleet("alpha", "web", "binpack");
        var a = agent("a", Map.of(), 4, 8192).live();
        String id = machine("alpha", "web", ADMIN, small("sleeper")).path("id").asString();
        String path = "/v1/namespaces/alpha/machines/" + id;
        assertThat(waitFor(id, "running").path("node_id").asString()).isEqualTo(a.id);
        long generation = assignment(a, id).path("generation").asLong();

        var suspend = http.post(path + "/suspend", ADMIN, null);
        assertThat(suspend.status()).as("%s", suspend).isEqualTo(200);
        assertThat(suspend.json().path("desired_state").asString()).isEqualTo("suspended");
        var suspended = waitFor(id, "suspended");
        assertThat(suspended.path("node_id").asString()).as("it stays on its node").isEqualTo(a.id);
        assertThat(assignment(a, id).path("desired_state").asString()).isEqualTo("suspended");
        assertThat(assignment(a, id).path("generation").asLong()).isGreaterThan(generation);
        assertThat(http.get("/v1/nodes/" + a.id, ADMIN).json().path("allocated").path("cpus").asInt())
                .as("it keeps its share of the node").isEqualTo(1);
        assertThat(http.get("/v1/namespaces/alpha/machines?state=suspended", ADMIN).json()).hasSize(1);
        assertThat(http.post(path + "/suspend", ADMIN, null).status()).as("suspending it again is no error")
                .isEqualTo(200);

        var start = http.post(path + "/start", ADMIN, null);
        assertThat(start.status()).as("%s", start).isEqualTo(200);
        assertThat(start.json().path("desired_state").asString()).isEqualTo("running");
        assertThat(waitFor(id, "running").path("node_id").asString()).as("resumed where it was").isEqualTo(a.id);

        // Not meant to run: a conflict. A suspended machine's stop is a plain stop (its node discards the snapshot).
        assertThat(http.post(path + "/suspend", ADMIN, null).status()).isEqualTo(200);
        waitFor(id, "suspended");
        assertThat(http.post(path + "/stop", ADMIN, null).status()).isEqualTo(200);
        assertThat(assignment(a, id).path("desired_state").asString()).isEqualTo("stopped");
        waitFor(id, "stopped");
        var notRunning = http.post(path + "/suspend", ADMIN, null);
        assertThat(notRunning.status()).as("%s", notRunning).isEqualTo(409);
        assertThat(notRunning.json().path("error").path("message").asString())
                .isEqualTo("suspend machine " + id + ": it is not meant to run (desired stopped)");

        // A machine with secrets: its memory would hold them on its node's disk.
        assertThat(http.post("/v1/namespaces/alpha/secrets", ADMIN, Map.of("name", "TOKEN", "value", "t")).status())
                .isEqualTo(201);
        var withSecrets = http.post("/v1/namespaces/alpha/fleets/web/machines", ADMIN, Map.of("name", "secretive",
                "start", true, "config", Map.of("image", "busybox", "guest", Map.of("cpus", 1, "memory_mb", 512),
                        "secrets", List.of(Map.of("name", "TOKEN", "env", "TOKEN")))));
        assertThat(withSecrets.status()).as("%s", withSecrets).isEqualTo(201);
        var refused = http.post("/v1/namespaces/alpha/machines/" + withSecrets.json().path("id").asString()
                + "/suspend", ADMIN, null);
        assertThat(refused.status()).as("%s", refused).isEqualTo(400);
        assertThat(refused.errorCode()).isEqualTo("failed_precondition");
        assertThat(refused.json().path("error").path("message").asString()).contains("it has secrets");
        assertThat(http.post("/v1/namespaces/alpha/machines/nope/suspend", ADMIN, null).status()).isEqualTo(404);
    }

    @Test
    void aSuspendedMachineOnADrainedNodeMovesAndItsNextStartBootsItOnTheNewNode() throws Exception {
        namespace("alpha");
        fleet("alpha", "web", "binpack");
        var a = agent("a", Map.of(), 4, 8192).live();
        String id = machine("alpha", "web", ADMIN, small("sleeper")).path("id").asString();
        String path = "/v1/namespaces/alpha/machines/" + id;
        waitFor(id, "running");
        assertThat(http.post(path + "/suspend", ADMIN, null).status()).isEqualTo(200);
        waitFor(id, "suspended");
        var b = agent("b", Map.of(), 4, 8192).live();

        assertThat(http.post("/v1/nodes/" + a.id + "/drain", ADMIN, null).status()).isEqualTo(200);
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
            assertThat(a.assignedIds()).isEmpty();
            assertThat(b.assignedIds()).containsExactly(id);
        });
        var moved = http.get(path, ADMIN).json();
        assertThat(moved.path("desired_state").asString()).as("it is not started by the move")
                .isEqualTo("suspended");
        assertThat(assignment(b, id).path("desired_state").asString()).isEqualTo("suspended");

        assertThat(http.post(path + "/start", ADMIN, null).status()).isEqualTo(200);
        assertThat(waitFor(id, "running").path("node_id").asString()).isEqualTo(b.id);
    }

    /** Waits until machine {@code id} of namespace alpha is reported in {@code state}; the machine then. */
    private JsonNode waitFor(String id, String state) {
        var r = http.get("/v1/namespaces/alpha/machines/" + id + "/wait?state=" + state + "&timeout_s=60", ADMIN);
        assertThat(r.status()).as("%s", r).isEqualTo(200);
        assertThat(r.json().path("state").asString()).isEqualTo(state);
        return r.json();
    }

    @Test
    void anInPlaceUpdateKeepsTheIdBumpsTheVersionReachesTheNodeAndIsRefusedWhereItCannotFit() throws Exception {
        namespace("alpha");
        fleet("alpha", "web", "binpack");
        var a = agent("a", Map.of(), 2, 2048).live();
        String id = machine("alpha", "web", ADMIN, small("m")).path("id").asString();
        String path = "/v1/namespaces/alpha/machines/" + id;
        waitFor(id, "running");
        long generation = assignment(a, id).path("generation").asLong();
        assertThat(http.get(path, ADMIN).json().path("version").asLong()).isEqualTo(1);

        var updated = http.post(path, ADMIN, Map.of("config", Map.of("env", Map.of("COLOR", "blue"),
                "guest", Map.of("cpus", 2, "memory_mb", 1024))));
        assertThat(updated.status()).as("%s", updated).isEqualTo(200);
        assertThat(updated.json().path("id").asString()).isEqualTo(id);
        assertThat(updated.json().path("name").asString()).isEqualTo("m");
        assertThat(updated.json().path("version").asLong()).isEqualTo(2);
        assertThat(updated.json().path("config").path("env").path("COLOR").asString()).isEqualTo("blue");
        assertThat(updated.json().path("config").path("image").asString()).as("what the body leaves out stays")
                .isEqualTo("busybox");
        var assigned = assignment(a, id);
        assertThat(assigned.path("generation").asLong()).as("its node is told").isGreaterThan(generation);
        assertThat(assigned.path("config").path("guest").path("cpus").asInt()).isEqualTo(2);
        assertThat(assigned.path("desired_state").asString()).isEqualTo("running");
        assertThat(http.get("/v1/nodes/" + a.id, ADMIN).json().path("allocated").path("cpus").asInt())
                .as("its share of the node is the new size").isEqualTo(2);

        // The node is full now: a second machine does not fit, nor does growing the first past the node.
        var tooBig = http.post(path, ADMIN, Map.of("config", Map.of("guest", Map.of("cpus", 3, "memory_mb", 1024))));
        assertThat(tooBig.errorCode()).as("%s", tooBig).isEqualTo("failed_precondition");
        assertThat(tooBig.errorMessage()).startsWith("update machine " + id + ": node " + a.id
                + " cannot hold the new config: ");
        assertThat(http.get(path, ADMIN).json().path("version").asLong()).as("a refused update changes nothing")
                .isEqualTo(2);
        var shrunk = http.post(path, ADMIN, Map.of("config", Map.of("guest", Map.of("cpus", 1, "memory_mb", 512))));
        assertThat(shrunk.status()).as("%s", shrunk).isEqualTo(200);
        assertThat(shrunk.json().path("version").asLong()).isEqualTo(3);
        assertThat(shrunk.json().path("config").path("env").path("COLOR").asString()).isEqualTo("blue");

        // Past the namespace's quota: 403 naming the limit; within it: fine.
        assertThat(http.put("/v1/namespaces/alpha/quota", ADMIN, Map.of("vcpus", 1)).status()).isEqualTo(200);
        var overQuota = http.post(path, ADMIN, Map.of("config", Map.of("guest", Map.of("cpus", 2, "memory_mb", 512))));
        assertThat(overQuota.errorCode()).as("%s", overQuota).isEqualTo("quota_exceeded");
        assertThat(overQuota.errorMessage()).isEqualTo("update machine " + id + ": namespace alpha is limited to "
                + "1 vCPU; this would make it 2 (it has 1)");
        assertThat(http.post(path, ADMIN, Map.of("config", Map.of("env", Map.of("COLOR", "red")))).status())
                .isEqualTo(200);

        var noConfig = http.post(path, ADMIN, Map.of());
        assertThat(noConfig.errorCode()).as("%s", noConfig).isEqualTo("invalid_argument");
        assertThat(noConfig.errorMessage()).contains("config is required");
        var mounts = http.post(path, ADMIN, Map.of("config", Map.of("mounts",
                List.of(Map.of("volume", "data", "path", "/data")))));
        assertThat(mounts.errorCode()).as("%s", mounts).isEqualTo("invalid_argument");
        assertThat(mounts.errorMessage()).contains("config.mounts cannot change in place");
        var badField = http.post(path, ADMIN, Map.of("config", Map.of("guest", Map.of("cpus", 0, "memory_mb", 512))));
        assertThat(badField.errorCode()).as("%s", badField).isEqualTo("invalid_argument");
        assertThat(http.post("/v1/namespaces/alpha/machines/nope", ADMIN, Map.of("config", Map.of())).status())
                .isEqualTo(404);
    }

    @Test
    void rollingASecretRedeploysTheFleetsUsingItOntoANewReleaseOfTheSameConfig() {
        namespace("alpha");
        agent("n1", Map.of(), 8, 16384).live();
        assertThat(http.post("/v1/namespaces/alpha/secrets", ADMIN, Map.of("name", "TOKEN", "value", "one")).status())
                .isEqualTo(201);
        var withSecret = new java.util.HashMap<String, Object>(WEB_CONFIG);
        withSecret.put("secrets", List.of(Map.of("name", "TOKEN", "env", "TOKEN")));
        assertThat(http.post("/v1/namespaces/alpha/fleets", ADMIN, Map.of("name", "web", "count", 2,
                "config", withSecret)).status()).isEqualTo(201);
        assertThat(http.post("/v1/namespaces/alpha/fleets", ADMIN, Map.of("name", "api", "count", 1,
                "config", WEB_CONFIG)).status()).isEqualTo(201);
        await().atMost(Duration.ofSeconds(30)).until(() -> fleetMachines("web").size() == 2
                && fleetMachines("api").size() == 1 && Stream.concat(fleetMachines("web").stream(),
                        fleetMachines("api").stream()).allMatch(m -> m.path("state").asString().equals("running")));
        var before = fleetMachines("web").stream().map(m -> m.path("id").asString()).toList();
        String api = fleetMachines("api").getFirst().path("id").asString();

        assertThat(http.put("/v1/namespaces/alpha/secrets/TOKEN", ADMIN, Map.of("value", "two")).status())
                .isEqualTo(200);
        var rolled = http.post("/v1/namespaces/alpha/secrets/TOKEN/roll", ADMIN, null);
        assertThat(rolled.status()).as("%s", rolled).isEqualTo(200);
        assertThat(rolled.json()).as("only the fleet using it").hasSize(1);
        JsonNode d = rolled.json().get(0);
        assertThat(d.path("fleet").asString()).isEqualTo("web");
        assertThat(d.path("from_version").asLong()).isEqualTo(1);
        assertThat(d.path("to_version").asLong()).isEqualTo(2);
        assertThat(d.path("steps").get(0).path("message").asString())
                .startsWith("deploying release 2 over release 1 (the same config): secret TOKEN changed: rolling");
        assertThat(http.post("/v1/namespaces/alpha/secrets/TOKEN/roll", ADMIN, null).json())
                .as("a fleet already deploying is left out").isEmpty();

        String path = "/v1/namespaces/alpha/fleets/web/deployments/" + d.path("id").asString();
        await().atMost(Duration.ofSeconds(60)).until(() ->
                http.get(path, ADMIN).json().path("status").asString().equals("succeeded"));
        assertThat(fleetMachines("web")).hasSize(2).allSatisfy(m -> {
            assertThat(m.path("config_version").asLong()).isEqualTo(2);
            assertThat(before).as("every machine replaced").doesNotContain(m.path("id").asString());
        });
        assertThat(fleetMachines("api").getFirst().path("id").asString()).as("the fleet without it is untouched")
                .isEqualTo(api);
        var releases = http.get("/v1/namespaces/alpha/fleets/web/releases", ADMIN).json();
        assertThat(releases.get(0).path("config")).isEqualTo(releases.get(1).path("config"));
        assertThat(http.post("/v1/namespaces/alpha/secrets/NOPE/roll", ADMIN, null).status()).isEqualTo(404);
    }

    /** Machine {@code id}'s assignment in {@code node}'s current assignments. */
    private static JsonNode assignment(FakeAgent node, String id) {
        for (JsonNode m : node.assignments().path("machines")) if (m.path("id").asString().equals(id)) return m;
        throw new AssertionError("node " + node.id + " has no assignment of machine " + id);
    }

    @Test
    void everyListReadPageByPageShowsEachItemExactlyOnceEvenWithInsertsBetweenPages() {
        for (String ns : List.of("paged-c", "paged-a", "paged-b")) namespace(ns);
        String ns = "/v1/namespaces/paged-a";
        for (String name : List.of("web", "api", "db", "cache", "queue")) fleet("paged-a", name, "spread");
        for (String name : List.of("v3", "v1", "v2")) {
            assertThat(http.post(ns + "/volumes", ADMIN, Map.of("name", name, "size_gb", 1)).status()).isEqualTo(201);
        }
        for (String node : List.of("n1", "n2", "n3")) agent(node, Map.of(), 8, 16384).live();
        var machines = new ArrayList<String>();
        for (int i = 0; i < 7; i++) {
            machines.add(machine("paged-a", i % 2 == 0 ? "web" : "api", ADMIN, Map.of("name", "m" + i,
                    "image", "busybox", "metadata", Map.of("tier", i < 3 ? "front" : "back"))).path("id").asString());
        }

        assertThat(allPages("/v1/namespaces?", 2, "name", null)).containsExactly("default", "paged-a", "paged-b",
                "paged-c");
        assertThat(allPages(ns + "/fleets?", 2, "name", null)).containsExactly("api", "cache", "db", "queue", "web");
        assertThat(allPages(ns + "/volumes?", 1, "name", null)).containsExactly("v1", "v2", "v3");
        for (String name : List.of("S3", "S1", "S2")) {
            assertThat(http.post(ns + "/secrets", ADMIN, Map.of("name", name, "value", "v")).status()).isEqualTo(201);
        }
        assertThat(allPages(ns + "/secrets?", 2, "name", null)).containsExactly("S1", "S2", "S3");
        assertThat(allPages("/v1/nodes?", 2, "id", null)).hasSize(3).doesNotHaveDuplicates().isSorted();
        assertThat(allPages(ns + "/machines?", 3, "id", null)).containsExactlyElementsOf(machines.stream().sorted()
                .toList());
        // filters apply before the page is cut: a page is short only at the end
        assertThat(allPages(ns + "/machines?metadata.tier=front&", 1, "id", null))
                .containsExactlyInAnyOrderElementsOf(machines.subList(0, 3));
        assertThat(allPages(ns + "/fleets/web/machines?metadata.tier=back&", 1, "id", null)).hasSize(2);
        assertThat(http.get(ns + "/machines?limit=2&fleet=api&metadata.tier=back", ADMIN).json()).hasSize(2);
        assertThat(http.get(ns + "/machines?limit=3", ADMIN).json()).as("each names its node")
                .allSatisfy(m -> assertThat(m.path("node_name").asString()).isIn("n1", "n2", "n3"));
        // a machine created between two pages is listed at most once, and every other machine exactly once
        var seen = allPages(ns + "/machines?", 2, "id", () -> machines.add(machine("paged-a", "web", ADMIN,
                Map.of("image", "busybox")).path("id").asString()));
        assertThat(seen).doesNotHaveDuplicates().containsAll(machines.subList(0, 7))
                .isSubsetOf(machines);
        // a tenant's namespace list is its namespace, paged the same way
        String tenant = http.post(ns + "/tokens", ADMIN, null).json().path("token").asString();
        assertThat(http.get("/v1/namespaces?limit=1", tenant).json()).hasSize(1);
        assertThat(http.get("/v1/namespaces?cursor=paged-a", tenant).json()).isEmpty();
        var tokens = new ArrayList<String>();
        for (int i = 0; i < 4; i++) tokens.add(http.post(ns + "/tokens", ADMIN, null).json().path("id").asString());
        assertThat(allPages(ns + "/tokens?", 2, "id", null)).as("the tenant's and these, by id")
                .hasSize(5).doesNotHaveDuplicates().isSorted().containsAll(tokens);
        for (String host : List.of("c.example.org", "a.example.org", "b.example.org")) {
            var attached = http.post(ns + "/fleets/web/hostnames", ADMIN, Map.of("hostname", host));
            assertThat(attached.status()).as("%s", attached).isEqualTo(201);
        }
        assertThat(allPages(ns + "/fleets/web/hostnames?", 2, "hostname", null)).containsExactly("a.example.org",
                "b.example.org", "c.example.org");

        assertRefuseBadPages(List.of("/v1/namespaces", ns + "/fleets", ns + "/machines", ns + "/volumes",
                ns + "/secrets", "/v1/nodes", ns + "/fleets/web/machines", ns + "/tokens", ns + "/fleets/web/hostnames"));
    }

    /** Each of {@code lists} answers a bad {@code limit} or {@code cursor} with a 400 naming the parameter. */
    private void assertRefuseBadPages(List<String> lists) {
        for (String bad : List.of("limit=0", "limit=1001", "limit=ten", "cursor=", "cursor=a%20b",
                "cursor=" + "x".repeat(254))) {
            for (String list : lists) {
                var refused = http.get(list + "?" + bad, ADMIN);
                assertThat(refused.status()).as("%s?%s", list, bad).isEqualTo(400);
                assertThat(refused.errorCode()).isEqualTo("invalid_argument");
                assertThat(refused.body()).contains(bad.substring(0, bad.indexOf('=')));
            }
        }
    }

    @Test
    void aFleetsReleasesAndDeploymentsAreReadPageByPageNewestFirst() {
        namespace("paged-r");
        String fleet = "/v1/namespaces/paged-r/fleets/web";
        var created = http.post("/v1/namespaces/paged-r/fleets", ADMIN, Map.of("name", "web", "count", 0,
                "config", WEB_CONFIG));
        assertThat(created.status()).as("%s", created).isEqualTo(201);
        var deployments = new ArrayList<String>();
        for (int v = 2; v <= 5; v++) {
            var config = new java.util.HashMap<String, Object>(WEB_CONFIG);
            config.put("image", "registry.test/web:" + v);
            var started = http.post(fleet + "/deployments", ADMIN, Map.of("config", config));
            assertThat(started.status()).as("%s", started).isEqualTo(201);
            String id = started.json().path("id").asString();
            deployments.addFirst(id);
            await().atMost(Duration.ofSeconds(30)).until(() -> http.get(fleet + "/deployments/" + id, ADMIN).json()
                    .path("status").asString().equals("succeeded"));
        }

        assertThat(allPages(fleet + "/releases?", 2, "version", null)).containsExactly("5", "4", "3", "2", "1");
        assertThat(allPages(fleet + "/releases?", 5, "version", null)).containsExactly("5", "4", "3", "2", "1");
        assertThat(allPages(fleet + "/deployments?", 3, "id", null)).containsExactlyElementsOf(deployments);
        assertThat(allPages(fleet + "/deployments?", 1, "id", null)).containsExactlyElementsOf(deployments);
        assertThat(http.get(fleet + "/releases", ADMIN).json()).hasSize(5);

        assertRefuseBadPages(List.of(fleet + "/releases", fleet + "/deployments"));
        for (String bad : List.of(fleet + "/releases?cursor=v2", fleet + "/releases?cursor=0",
                fleet + "/deployments?cursor=nosuchdeployment")) {
            var refused = http.get(bad, ADMIN);
            assertThat(refused.status()).as("%s", bad).isEqualTo(400);
            assertThat(refused.body()).contains("cursor");
        }
        assertThat(http.get("/v1/namespaces/paged-r/fleets/none/releases?limit=1", ADMIN).status()).isEqualTo(404);
    }

    /**
     * The {@code key} of every item of {@code list} (a path ending in {@code ?} or {@code &}), read {@code limit} at
     * a time as a client does, following the cursor until a short page; {@code between} (if any) runs after the
     * first page.
     */
    private List<String> allPages(String list, int limit, String key, Runnable between) {
        var keys = new ArrayList<String>();
        String cursor = null;
        while (true) {
            var page = http.get(list + "limit=" + limit + (cursor == null ? "" : "&cursor=" + cursor), ADMIN);
            assertThat(page.status()).as("%s", page).isEqualTo(200);
            page.json().forEach(item -> keys.add(item.path(key).asString()));
            if (page.json().size() < limit) return keys;
            assertThat(page.json()).hasSize(limit);
            cursor = keys.getLast();
            if (between != null && keys.size() == limit) between.run();
        }
    }

    /** A connection to this test's database beside the server's, to change it as an intruder would. */
    java.sql.Connection rawConnection() throws java.sql.SQLException {
        if (db.isEmpty()) {
            return java.sql.DriverManager.getConnection("jdbc:sqlite:" + dataDir.resolve("server.db"));
        }
        try (var store = dev.bolero.server.store.ServerStore.postgres(db.get())) {
            return store.dedicatedConnection();
        }
    }
}
