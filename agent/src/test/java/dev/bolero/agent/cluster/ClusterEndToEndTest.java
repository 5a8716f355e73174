package dev.bolero.agent.cluster;

import static dev.bolero.agent.cluster.AgentNode.processesMentioning;
import static dev.bolero.server.Http.call;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.bolero.agent.ClusterNetwork;
import dev.bolero.api.ExecRequest;
import dev.bolero.api.ExecStream;
import dev.bolero.api.testing.PrometheusText;
import dev.bolero.client.ExecClient;
import dev.bolero.network.testing.HostCommands;
import dev.bolero.oci.testing.ImageSpec;
import dev.bolero.oci.testing.TestImages;
import dev.bolero.oci.testing.TestRegistry;
import dev.bolero.server.Http.Response;
import dev.bolero.server.Server;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

/**
 * A cluster on one host: one control-plane server (SQLite, in this JVM) and three real agents, each its own JVM and
 * data directory, booting real QEMU machines from a real registry. Placement (spread, bin-pack), machine ids shared
 * between the control plane and the node API, node loss (SIGKILL of an agent) with the machine coming back on
 * another node, the returning node destroying its copy, drain, and fencing when the server goes away.
 * Each agent runs in its own network namespace ({@link ClusterNetwork}) with its own node network, reaching the server
 * and the registry through a veth pair; the running machine answers at its address inside every node it lands on. Two
 * tenants' machines bin-packed on one node sit in their own subnets and cannot reach each other, a published port
 * answers at the node's address, and a second machine publishing the same port there is refused with the node's
 * reason. At most three VMs run at a time.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ClusterEndToEndTest {
    private static final String ADMIN = "admin-token-cluster-e2e-0123456789";
    private static final String JOIN = "join-token-cluster-e2e-0123456789";

    @TempDir
    static Path dir;

    private static ClusterNetwork network;
    private static TestRegistry registry;
    private static String image;
    private static Server server;
    private static final List<Node> nodes = new ArrayList<>();

    /** One agent process, in its own network namespace. */
    static final class Node extends AgentNode {
        Node(String name, ClusterNetwork.Node net) {
            super(name, dir.resolve(name), net, () -> List.of(serverUrl()), JOIN, registry.host());
        }
    }

    @BeforeAll
    static void setUp() throws Exception {
        network = ClusterNetwork.create();
        registry = TestRegistry.startOn(network.hostIp());
        image = TestImages.push(registry, "cluster/sleeper:1", ImageSpec.cmd("sh", "-c",
                "echo up; mkdir -p /www; hostname > /www/index.html; exec httpd -f -p 80 -h /www"));
        server = AgentNode.startServer(network, dir, ADMIN, JOIN);
        for (String name : List.of("n1", "n2", "n3")) {
            Node n = new Node(name, network.addNode());
            nodes.add(n);
            n.start();
        }
        assertThat(api("POST", "/v1/namespaces", "{\"name\": \"alpha\"}").status()).isEqualTo(201);
        assertThat(api("POST", "/v1/namespaces/alpha/fleets", "{\"name\": \"spread\", \"strategy\": \"spread\"}")
                .status()).isEqualTo(201);
        assertThat(api("POST", "/v1/namespaces/alpha/fleets", "{\"name\": \"packed\", \"strategy\": \"binpack\"}")
                .status()).isEqualTo(201);
    }

    @AfterAll
    static void tearDown() throws Exception {
        AgentNode.tearDown(nodes, dir, server, registry, network);
    }

    /** The node's {@code /metrics}, parsed. */
    private static PrometheusText metrics(Node node) {
        var answer = call("GET", node.url() + "/metrics", null, null);
        assertThat(answer.status()).as("%s", answer).isEqualTo(200);
        return PrometheusText.parse(answer.body());
    }

    @Test
    @Order(1)
    void spread_and_binpack_place_on_real_agents_which_create_the_machines_under_the_cluster_id() {
        var spread = new HashSet<String>();
        var ids = new ArrayList<String>();
        for (int i = 0; i < 3; i++) {
            JsonNode m = create("spread", "s" + i, false);
            spread.add(m.path("node_id").asString());
            ids.add(m.path("id").asString());
        }
        var packed = new HashSet<String>();
        for (int i = 0; i < 2; i++) {
            JsonNode m = create("packed", "p" + i, false);
            packed.add(m.path("node_id").asString());
            ids.add(m.path("id").asString());
        }
        assertThat(spread).as("spread uses every node").hasSize(3);
        assertThat(packed).as("bin-pack fills one node").hasSize(1);
        for (String id : ids) {
            Node n = nodeOf(machine(id).path("node_id").asString());
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
                    assertThat(n.localState(id)).as("machine %s on %s", id, n.name).isEqualTo("created"));
        }
        for (String id : ids) assertThat(api("DELETE", "/v1/namespaces/alpha/machines/" + id, null).status())
                .isEqualTo(204);
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            for (Node n : nodes) assertThat(n.localMachines()).as("machines left on %s", n.name).isZero();
            assertThat(api("GET", "/v1/namespaces/alpha/machines", null).json().size()).isZero();
        });
    }

    @Test
    @Order(2)
    void logs_followed_logs_events_and_exec_of_a_machine_come_through_the_server_from_its_node() throws Exception {
        String id = create("spread", "talker", true).path("id").asString();
        waitRunning(id, null);
        String machine = "/v1/namespaces/alpha/machines/" + id;
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
            var logs = api("GET", machine + "/logs", null);
            assertThat(logs.status()).as(logs.body()).isEqualTo(200);
            assertThat(logs.body()).isEqualTo("up\n");
        });
        var events = api("GET", machine + "/events", null);
        assertThat(events.status()).as(events.body()).isEqualTo(200);
        assertThat(events.json().findValuesAsString("type")).contains("created", "running");

        // what it uses, read by its node from the VMM's cgroup, /proc and the machine's tap (traffic: one request)
        assertServes(nodeOf(machine(id).path("node_id").asString()), id);
        var stats = api("GET", machine + "/stats?window_s=60", null);
        assertThat(stats.status()).as(stats.body()).isEqualTo(200);
        JsonNode now = stats.json().path("samples").get(stats.json().path("samples").size() - 1);
        assertThat(now.path("cpu").path("seconds").asDouble()).as("%s", now).isPositive();
        assertThat(now.path("memory").path("bytes").asLong()).as("%s", now).isPositive();
        assertThat(now.path("memory").path("limit_bytes").asLong()).as("the cgroup's limit: %s", now)
                .isGreaterThanOrEqualTo(now.path("memory").path("bytes").asLong());
        assertThat(now.path("network").path("rx_packets").asLong()).as("%s", now).isPositive();
        assertThat(now.path("network").path("tx_bytes").asLong()).as("%s", now).isPositive();
        assertThat(api("GET", machine + "/stats?window_s=7200", null).status()).isEqualTo(400);
        // the same on the node's /metrics (from its latest sample, taken every 10 s), labelled with the machine, its
        // namespace and its fleet, with the pull, preparation and boot it measured and the machines by state
        Node node = nodeOf(machine(id).path("node_id").asString());
        var labels = Map.of("machine", id, "namespace", "alpha", "fleet", "spread");
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            PrometheusText metrics = metrics(node);
            assertThat(metrics.one("bolero_machine_cpu_seconds_total", labels).value()).isPositive();
            assertThat(metrics.one("bolero_machine_network_transmit_packets_total", labels).value()).isPositive();
            assertThat(metrics.one("bolero_machine_memory_bytes", labels).value()).isPositive();
            assertThat(metrics.sum("bolero_machine_boot_seconds_count", Map.of())).isPositive();
            assertThat(metrics.sum("bolero_image_pull_seconds_count", Map.of("outcome", "success"))).isPositive();
            assertThat(metrics.sum("bolero_image_pull_seconds_sum", Map.of("outcome", "success"))).isPositive();
            assertThat(metrics.sum("bolero_machine_prepare_seconds_count", Map.of("outcome", "success")))
                    .isPositive();
            assertThat(metrics.types()).containsEntry("bolero_image_pull_seconds", "histogram")
                    .containsEntry("bolero_machine_prepare_seconds", "histogram");
            assertThat(metrics.one("bolero_machines", Map.of("state", "running")).value()).isPositive();
        });

        var exec = api("POST", machine + "/exec", "{\"cmd\": [\"sh\", \"-c\", \"echo hi; echo oops >&2; exit 3\"]}");
        assertThat(exec.status()).as(exec.body()).isEqualTo(200);
        assertThat(exec.json().path("exit_code").asInt()).isEqualTo(3);
        assertThat(exec.json().path("stdout").asString()).isEqualTo("hi\n");
        assertThat(exec.json().path("stderr").asString()).isEqualTo("oops\n");

        // interactive: the client's socket is relayed by the server to the one the node's agent opens
        var terminal = new java.io.ByteArrayOutputStream();
        ExecClient.Output output = new ExecClient.Output() {
            @Override
            public void stdout(byte[] data) {
                synchronized (terminal) {
                    terminal.writeBytes(data);
                }
            }

            @Override
            public void stderr(byte[] data) {
                stdout(data);
            }
        };
        var start = new ExecStream.Start(new ExecRequest(List.of("sh"), null, null, null, null, null), true, 30, 100);
        try (ExecClient shell = ExecClient.connect(URI.create(serverUrl().replaceFirst("^http", "ws") + machine + "/exec"),
                Optional.of("Bearer " + ADMIN), start, output)) {
            shell.input("stty size; tty; exit 4\n".getBytes(StandardCharsets.UTF_8));
            assertThat(shell.await()).as("the shell's exit code through the server").isEqualTo(4);
        }
        synchronized (terminal) {
            assertThat(terminal.toString(StandardCharsets.UTF_8)).contains("30 100").contains("/dev/pts/");
        }
        // both execs counted by the node, neither open any more
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
            PrometheusText metrics = metrics(node);
            assertThat(metrics.one("bolero_exec_sessions_total", Map.of("kind", "call")).value()).isEqualTo(1);
            assertThat(metrics.one("bolero_exec_sessions_total", Map.of("kind", "stream")).value()).isEqualTo(1);
            assertThat(metrics.one("bolero_exec_sessions_open", Map.of()).value()).isZero();
        });

        // An in-place update: its node rebuilds it from the new config under the same id and boots it again.
        String nodeId = machine(id).path("node_id").asString();
        var update = api("POST", machine, "{\"config\": {\"env\": {\"COLOR\": \"blue\"}}}");
        assertThat(update.status()).as(update.body()).isEqualTo(200);
        assertThat(update.json().path("version").asLong()).isEqualTo(2);
        var workloadEnv = "{\"cmd\": [\"sh\", \"-c\", \"tr '\\\\0' '\\\\n' < /proc/$(pidof httpd)/environ\"]}";
        await().atMost(Duration.ofSeconds(240)).pollInterval(Duration.ofSeconds(1)).untilAsserted(() -> {
            var env = api("POST", machine + "/exec", workloadEnv);
            assertThat(env.status()).as(env.body()).isEqualTo(200);
            assertThat(env.json().path("stdout").asString()).as("the workload's environment").contains("COLOR=blue\n");
        });
        assertThat(waitRunning(id, null)).as("on the same node").isEqualTo(nodeId);
        assertThat(nodeOf(nodeId).localMachines()).as("one machine on its node, not two").isEqualTo(1);

        var follow = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(serverUrl() + machine
                        + "/logs?follow=true&timestamps=true")).header("Authorization", "Bearer " + ADMIN).build(),
                HttpResponse.BodyHandlers.ofInputStream());
        assertThat(follow.statusCode()).isEqualTo(200);
        try (var lines = new BufferedReader(new InputStreamReader(follow.body(), StandardCharsets.UTF_8))) {
            assertThat(lines.readLine()).as("the first line, timestamped").matches("\\d{4}-\\d\\d-\\d\\dT\\S+ stdout up");
            assertThat(api("POST", machine + "/stop", null).status()).isEqualTo(200);
            assertThat(lines.readLine()).as("a followed log ends when the machine stops").isNull();
        }
        assertThat(api("DELETE", machine, null).status()).isEqualTo(204);
    }

    @Test
    @Order(3)
    void tenants_machines_on_one_node_are_in_their_own_namespaces_and_cannot_reach_each_other_and_ports_publish()
            throws Exception {
        assertThat(api("POST", "/v1/namespaces", "{\"name\": \"beta\"}").status()).isEqualTo(201);
        assertThat(api("POST", "/v1/namespaces/beta/fleets", "{\"name\": \"packed\", \"strategy\": \"binpack\"}")
                .status()).isEqualTo(201);
        String published = ", \"services\": [{\"protocol\": \"tcp\", \"internal_port\": 80, \"port\": 8080}]";
        String a1 = create("alpha", "packed", "a1", true, published).path("id").asString();
        String a2 = create("alpha", "packed", "a2", true, "").path("id").asString();
        String b1 = create("beta", "packed", "b1", true, "").path("id").asString();
        Node node = nodeOf(waitRunning("alpha", a1, null));
        assertThat(waitRunning("alpha", a2, null)).as("bin-pack").isEqualTo(node.id);
        assertThat(waitRunning("beta", b1, null)).as("bin-pack across tenants").isEqualTo(node.id);

        var local = new java.util.HashMap<String, JsonNode>();
        for (String id : List.of(a1, a2, b1)) {
            local.put(id, call("GET", node.url() + "/api/v1/machines/" + id, null, null).json());
        }
        assertThat(local.get(a1).path("namespace").asString()).isEqualTo("alpha");
        assertThat(local.get(a2).path("namespace").asString()).isEqualTo("alpha");
        assertThat(local.get(b1).path("namespace").asString()).isEqualTo("beta");
        String ipA1 = local.get(a1).path("ip").asString();
        String ipA2 = local.get(a2).path("ip").asString();
        String ipB1 = local.get(b1).path("ip").asString();
        assertThat(subnet24(ipA2)).as("one tenant, one subnet").isEqualTo(subnet24(ipA1));
        assertThat(subnet24(ipB1)).as("another tenant, another subnet").isNotEqualTo(subnet24(ipA1));

        // busybox nc, not wget: Debian's static busybox wget crashes (SIGSEGV) looking up services without NSS.
        String fetchA1 = "{\"cmd\": [\"sh\", \"-c\", \"printf 'GET / HTTP/1.0\\\\r\\\\n\\\\r\\\\n' | nc -w 2 " + ipA1
                + " 80\"]}";
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofSeconds(1)).untilAsserted(() -> {
            var same = api("POST", "/v1/namespaces/alpha/machines/" + a2 + "/exec", fetchA1);
            assertThat(same.status()).as(same.body()).isEqualTo(200);
            assertThat(same.json().path("exit_code").asInt()).as("a2 fetches a1: %s", same.body()).isZero();
            assertThat(same.json().path("stdout").asString()).startsWith("HTTP/1.");
        });
        var other = api("POST", "/v1/namespaces/beta/machines/" + b1 + "/exec", fetchA1);
        assertThat(other.status()).as(other.body()).isEqualTo(200);
        assertThat(other.json().path("exit_code").asInt()).as("b1 fetches a1: %s", other.body()).isNotZero();
        assertThat(other.json().path("stdout").asString()).isEmpty();

        assertServesOn(node, node.net.ip() + ":8080");

        // The same port again in the bin-packed fleet: placement skips the node where it is taken.
        JsonNode clash = create("alpha", "packed", "a3", false, published);
        assertThat(clash.path("node_id").asString()).as("a node with tcp port 8080 free").isNotEqualTo(node.id);
        String a3 = clash.path("id").asString();
        assertThat(node.localState(a3)).isEqualTo("absent");

        for (String id : List.of(a1, a2, a3)) {
            assertThat(api("DELETE", "/v1/namespaces/alpha/machines/" + id, null).status()).isEqualTo(204);
        }
        assertThat(api("DELETE", "/v1/namespaces/beta/machines/" + b1, null).status()).isEqualTo(204);
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
            assertThat(node.localMachines()).isZero();
            assertThat(api("GET", "/v1/namespaces/alpha/machines", null).json().size()).isZero();
        });
    }

    @Test
    @Order(4)
    void a_lost_node_s_machine_runs_elsewhere_the_returning_node_drops_its_copy_drain_moves_it_a_cut_off_node_fences_first_and_fencing_stops_it()
            throws Exception {
        String id = create("spread", "web", true).path("id").asString();
        Node first = nodeOf(waitRunning(id, null));
        assertServes(first, id);

        first.kill();
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> assertThat(nodeState(first.id)).isEqualTo("down"));
        Node second = nodeOf(waitRunning(id, first.id));
        assertServes(second, id);

        first.start();
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
            assertThat(first.localState(id)).as("the returned node's copy").isEqualTo("absent");
            assertThat(processesMentioning(first.dataDir.resolve("machines").toString())).as("VMMs of %s", first.name)
                    .isEmpty();
            assertThat(nodeState(first.id)).isEqualTo("ready");
        });
        assertThat(machine(id).path("node_id").asString()).isEqualTo(second.id);

        assertThat(api("POST", "/v1/nodes/" + second.id + "/drain", null).status()).isEqualTo(200);
        Node third = nodeOf(waitRunning(id, second.id));
        assertServes(third, id);
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() ->
                assertThat(second.localState(id)).as("the drained node's copy").isEqualTo("absent"));

        // Cut the third node off (its link to the cluster network down; the agent and its VMM keep running): it
        // fences itself before the server declares it down, so its copy is gone before the second copy runs.
        String thirdVmms = third.dataDir.resolve("machines").toString();
        var overlaps = new java.util.concurrent.CopyOnWriteArrayList<String>();
        var watching = new java.util.concurrent.atomic.AtomicBoolean(true);
        var watcher = Thread.ofVirtual().start(() -> {
            while (watching.get()) {
                try {
                    JsonNode m = machine(id);
                    boolean elsewhere = "running".equals(m.path("state").asString())
                            && !third.id.equals(m.path("node_id").asString());
                    if (elsewhere && !processesMentioning(thirdVmms).isEmpty()) overlaps.add(m.toString());
                    Thread.sleep(100);
                } catch (InterruptedException e) {
                    return;
                } catch (RuntimeException | AssertionError e) {
                    overlaps.add("watcher: " + e);
                }
            }
        });
        HostCommands.sh("ip", "link", "set", third.net.hostEnd(), "down");
        Node fourth;
        try {
            fourth = nodeOf(waitRunning(id, third.id));
            await().atMost(Duration.ofSeconds(60)).untilAsserted(() ->
                    assertThat(processesMentioning(thirdVmms)).as("VMMs of the cut-off %s", third.name).isEmpty());
        } finally {
            watching.set(false);
            watcher.join();
            HostCommands.sh("ip", "link", "set", third.net.hostEnd(), "up");
        }
        assertThat(overlaps).as("samples with the cut-off copy alive while another ran").isEmpty();
        assertServes(fourth, id);
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
            assertThat(nodeState(third.id)).as("the reconnected node").isEqualTo("ready");
            assertThat(third.localState(id)).as("the reconnected node's copy").isEqualTo("absent");
        });
        assertThat(machine(id).path("node_id").asString()).isEqualTo(fourth.id);

        server.close();
        server = null;
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() ->
                assertThat(fourth.localState(id)).as("fenced without the control plane").isEqualTo("absent"));
    }

    // --- helpers ---

    private static JsonNode create(String fleet, String name, boolean start) {
        return create("alpha", fleet, name, start, "");
    }

    /** Creates a machine of the test image; {@code extra} is more members of its config, each with a leading comma. */
    private static JsonNode create(String ns, String fleet, String name, boolean start, String extra) {
        var r = api("POST", "/v1/namespaces/" + ns + "/fleets/" + fleet + "/machines",
                "{\"name\": \"" + name + "\", \"start\": " + start + ", \"config\": {\"image\": \"" + image
                        + "\", \"guest\": {\"cpus\": 1, \"memory_mb\": 256}" + extra + "}}");
        assertThat(r.status()).as("create %s: %s", name, r.body()).isEqualTo(201);
        return r.json();
    }

    /**
     * The machine's web server answers at its address from inside its node's namespace: the node network (bridge,
     * tap, nftables) works in the agent's namespace.
     */
    private static void assertServes(Node n, String machineId) {
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500)).untilAsserted(() -> {
            var local = call("GET", n.url() + "/api/v1/machines/" + machineId, null, null).json();
            String ip = local.path("ip").asString();
            assertThat(ip).as("address of %s on %s: %s", machineId, n.name, local).isNotEmpty();
            assertServesOn(n, ip);
        });
    }

    /** A web server answers at {@code address} (host or host:port) from inside the node's namespace. */
    private static void assertServesOn(Node n, String address) {
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500)).untilAsserted(() -> {
            var curl = new ProcessBuilder(n.net.command(List.of("curl", "-sS", "--max-time", "2",
                    "http://" + address + "/"))).redirectErrorStream(true).start();
            String body = new String(curl.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
            assertThat(curl.waitFor()).as("curl http://%s/ in %s: %s", address, n.net.netns(), body).isZero();
            assertThat(body).isNotBlank();
        });
    }

    private static String subnet24(String ip) {
        return ip.substring(0, ip.lastIndexOf('.'));
    }

    /** Waits until the control plane reports the machine running on a node other than {@code notOn}. */
    private static String waitRunning(String id, String notOn) {
        return waitRunning("alpha", id, notOn);
    }

    private static String waitRunning(String ns, String id, String notOn) {
        var on = new java.util.concurrent.atomic.AtomicReference<String>();
        await().atMost(Duration.ofSeconds(240)).pollInterval(Duration.ofMillis(500)).untilAsserted(() -> {
            JsonNode m = machine(ns, id);
            String nodeId = m.path("node_id").asString();
            assertThat(nodeId).as("node of %s: %s", id, m).isNotEqualTo(notOn).isNotEmpty();
            assertThat(m.path("state").asString()).as("state of %s: %s", id, m).isEqualTo("running");
            Node n = nodeOf(nodeId);
            assertThat(n.localState(id)).as("state of %s on %s", id, n.name).isEqualTo("running");
            on.set(nodeId);
        });
        return on.get();
    }

    private static JsonNode machine(String id) {
        return machine("alpha", id);
    }

    private static JsonNode machine(String ns, String id) {
        var r = api("GET", "/v1/namespaces/" + ns + "/machines/" + id, null);
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        return r.json();
    }

    private static String nodeState(String nodeId) {
        return api("GET", "/v1/nodes/" + nodeId, null).json().path("state").asString();
    }

    private static Node nodeOf(String nodeId) {
        return nodes.stream().filter(n -> n.id.equals(nodeId)).findFirst()
                .orElseThrow(() -> new AssertionError("no agent has node id " + nodeId));
    }

    private static Response api(String method, String path, String body) {
        return call(method, serverUrl() + path, ADMIN, body);
    }

    private static String serverUrl() {
        return "http://" + network.hostIp() + ":" + server.port();
    }
}
