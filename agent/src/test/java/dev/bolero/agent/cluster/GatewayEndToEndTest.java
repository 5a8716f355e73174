package dev.bolero.agent.cluster;

import static dev.bolero.server.Http.call;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.bolero.agent.ClusterNetwork;
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
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

/**
 * The gateway with real parts: a server, one agent in its own network namespace with its private network
 * ({@code wireguard-go}), a real VM serving HTTP, and the gateway in a network namespace of its own, a peer of the
 * private network's WireGuard mesh (its own {@code wireguard-go} link): between the gateway and the node only the
 * underlay (a bridge on the host) and WireGuard; the machine has no published port. The fleet answers by host name
 * over the mesh; the gateway reaches only the machine's {@code http_service} port and the machine nothing of the
 * gateway; another namespace's fleet of the same name does not reach it; a stopped machine is started by the first
 * request, which is held until it answers; the gateway stopping leaves the mesh: its peer goes from the node's link,
 * and its own link and {@code wireguard-go} are gone.
 */
class GatewayEndToEndTest {
    static {
        System.setProperty("jdk.httpclient.allowRestrictedHeaders", "host");
    }

    private static final String ADMIN = "admin-token-gateway-e2e-0123456789";
    private static final String JOIN = "join-token-gateway-e2e-0123456789";
    private static final String DOMAIN = "apps.test";

    @TempDir
    static Path dir;

    private static ClusterNetwork network;
    private static TestRegistry registry;
    private static String image;
    private static Server server;
    private static final List<AgentNode> nodes = new ArrayList<>();
    private static String link;
    private static ClusterNetwork.Node gatewayNet;
    private static String gatewayLink;
    private static Process gateway;
    private static String gatewayUrl;
    private static String gatewayAddress;
    private static int gatewayPort;

    @BeforeAll
    static void setUp() throws Exception {
        network = ClusterNetwork.create();
        HostCommands.assumeRootWith("for the private network's link", "wireguard-go", "wg");
        registry = TestRegistry.startOn(network.hostIp());
        image = TestImages.push(registry, "gateway/web:1", ImageSpec.cmd("sh", "-c",
                "echo up; mkdir -p /www; hostname > /www/index.html; exec httpd -f -p 80 -h /www"));
        server = AgentNode.startServer(network, dir, ADMIN, JOIN);
        var net = network.addNode();
        var node = new AgentNode("n1", dir.resolve("n1"), net, GatewayEndToEndTest::servers, JOIN, registry.host());
        String id = HostCommands.randomId();
        link = "bg" + id + "n1";
        gatewayLink = "bg" + id + "gw";
        node.extraArguments = ClusterAgentMain.privateNetwork(net.ip() + ":51820", link);
        nodes.add(node);
        node.start();
        for (String ns : List.of("alpha", "beta")) {
            // beta's fleet has no machine to start: its requests are answered 503 at once, not held.
            String service = "\"http_service\": {\"internal_port\": 80, \"auto_start\": " + ns.equals("alpha") + "}";
            assertThat(api("POST", "/v1/namespaces", "{\"name\": \"" + ns + "\"}").status()).isEqualTo(201);
            var fleet = api("POST", "/v1/namespaces/" + ns + "/fleets", "{\"name\": \"web\", \"config\": {\"image\": \""
                    + image + "\", \"guest\": {\"cpus\": 1, \"memory_mb\": 256}, " + service + "}}");
            assertThat(fleet.status()).as(fleet.body()).isEqualTo(201);
        }
        gatewayNet = network.addNode();
        startGateway(gatewayNet);
    }

    /**
     * Runs {@link GatewayMain} in its own namespace, listening on every address there (the test reaches it on its
     * underlay address), its WireGuard endpoint on that address.
     */
    private static void startGateway(ClusterNetwork.Node net) throws Exception {
        String javaBin = ProcessHandle.current().info().command().orElse("java");
        var argv = List.of(javaBin, "-cp", System.getProperty("java.class.path"), GatewayMain.class.getName(),
                serverUrl(), ADMIN, DOMAIN, "0.0.0.0", dir.resolve("gateway/wireguard.key").toString(), gatewayLink,
                net.ip() + ":51820");
        gateway = new ProcessBuilder(net.command(argv)).redirectErrorStream(true).start();
        var reader = new BufferedReader(new InputStreamReader(gateway.getInputStream(), StandardCharsets.UTF_8));
        String ready = CompletableFuture.supplyAsync(() -> {
            try {
                for (String line; (line = reader.readLine()) != null; ) {
                    System.out.println("gateway| " + line);
                    if (line.startsWith("GATEWAY-MESH ")) gatewayAddress = line.split(" ")[1];
                    if (line.startsWith("GATEWAY-PORT ")) return line;
                }
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
            throw new IllegalStateException("the gateway exited before serving (its output is above)");
        }).get(120, TimeUnit.SECONDS);
        gatewayPort = Integer.parseInt(ready.split(" ")[1]);
        gatewayUrl = "http://" + net.ip() + ":" + gatewayPort;
        Thread.ofVirtual().start(() -> {
            try {
                reader.lines().forEach(line -> System.out.println("gateway| " + line));
            } catch (java.io.UncheckedIOException e) {
                // the gateway was stopped
            }
        });
    }

    @AfterAll
    static void tearDown() throws Exception {
        try {
            stopGateway();
            // A gateway killed before it left the mesh leaves its link (and wireguard-go, which keeps the namespace).
            if (gatewayNet != null && run(gatewayNet, "ip", "link", "show", gatewayLink)
                    .exit() == 0) {
                run(gatewayNet, "ip", "link", "del", gatewayLink);
            }
        } finally {
            try {
                AgentNode.tearDown(nodes, dir, server, registry, network);
            } finally {
                for (String l : new String[] {link, gatewayLink}) {
                    if (l != null) Files.deleteIfExists(Path.of("/var/run/wireguard/" + l + ".sock"));
                }
            }
        }
    }

    /** Stops the gateway as an operator would (SIGTERM: it leaves the mesh), once. */
    private static void stopGateway() throws InterruptedException {
        if (gateway == null || !gateway.isAlive()) return;
        gateway.destroy();
        if (!gateway.waitFor(30, TimeUnit.SECONDS)) gateway.destroyForcibly().waitFor();
    }

    @Test
    void a_fleet_answers_by_host_name_through_the_gateway_and_a_stopped_machine_wakes_on_request() throws Exception {
        long created = System.nanoTime();
        var r = api("POST", "/v1/namespaces/alpha/fleets/web/machines", "{\"name\": \"a1\", \"start\": true}");
        assertThat(r.status()).as(r.body()).isEqualTo(201);
        String a1 = r.json().path("id").asString();
        awaitState(a1, "running");
        System.out.printf("cold boot (create to running, by the control plane): %d ms%n",
                (System.nanoTime() - created) / 1_000_000);

        String privateIp = api("GET", "/v1/namespaces/alpha/machines/" + a1, null).json().path("private_ip").asString();
        // The node has the gateway as a peer, its /32 only; the gateway reaches the machine's address through its link.
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(wg(nodes.getFirst().net, link, "allowed-ips"))
                .contains(gatewayAddress + "/32"));
        assertThat(sh(gatewayNet, "ip", "route", "get", privateIp))
                .contains("dev " + gatewayLink);

        try (var http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(5)).build()) {
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500)).untilAsserted(() -> {
                var answer = get(http, "web.alpha." + DOMAIN);
                assertThat(answer.statusCode()).as(answer.body()).isEqualTo(200);
                assertThat(answer.body()).contains("a1");
            });
            // Only the http_service port is open to gateways: another port of the machine is dropped (curl times
            // out, exit 28), not refused by the guest (exit 7).
            var otherPort = run(gatewayNet, "curl", "-s", "--max-time", "3",
                    "http://" + privateIp + ":81/");
            assertThat(otherPort.exit()).as("curl to the machine's port 81 from the gateway's host").isEqualTo(28);
            // The machine cannot open a connection to the gateway (which listens on its mesh address too).
            var fromMachine = exec("alpha", a1, "printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 2 " + gatewayAddress
                    + " " + gatewayPort);
            assertThat(fromMachine.path("stdout").asString()).as("%s", fromMachine).doesNotContain("HTTP/");
            var beta = get(http, "web.beta." + DOMAIN);
            assertThat(beta.statusCode()).as("beta's fleet has no machine: %s", beta.body()).isEqualTo(503);
            assertThat(beta.body()).doesNotContain("a1");

            assertThat(api("POST", "/v1/namespaces/alpha/machines/" + a1 + "/stop", null).status()).isEqualTo(200);
            awaitState(a1, "stopped");
            long asked = System.nanoTime();
            var woken = get(http, "web.alpha." + DOMAIN);
            System.out.printf("wake on request (stopped to first response through the gateway): %d ms%n",
                    (System.nanoTime() - asked) / 1_000_000);
            assertThat(woken.statusCode()).as(woken.body()).isEqualTo(200);
            assertThat(woken.body()).contains("a1");
        }
        assertThat(api("DELETE", "/v1/namespaces/alpha/machines/" + a1, null).status()).isEqualTo(204);
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> assertThat(nodes.getFirst().localMachines()).isZero());

        // A stopping gateway leaves the mesh: the node drops its peer; its link and wireguard-go are gone.
        String gatewayKey = wg(gatewayNet, gatewayLink, "public-key").strip();
        assertThat(wg(nodes.getFirst().net, link, "peers")).contains(gatewayKey);
        stopGateway();
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(wg(nodes.getFirst().net, link, "peers"))
                .doesNotContain(gatewayKey));
        assertThat(sh(gatewayNet, "ip", "-o", "link", "show")).doesNotContain(gatewayLink);
        assertThat(run(gatewayNet, "wg", "show", gatewayLink).exit()).isNotZero();
        assertThat(Path.of("/var/run/wireguard/" + gatewayLink + ".sock")).doesNotExist();
    }

    /** {@code wg show <link> <what>} in {@code net}'s namespace. */
    private static String wg(ClusterNetwork.Node net, String link, String what) throws Exception {
        return sh(net, "wg", "show", link, what);
    }

    /** {@code argv} run in {@code net}'s namespace. */
    private static HostCommands.Result run(ClusterNetwork.Node net, String... argv) throws Exception {
        return HostCommands.run(net.command(List.of(argv)).toArray(String[]::new));
    }

    /** {@code argv}'s output in {@code net}'s namespace; throws when it fails. */
    private static String sh(ClusterNetwork.Node net, String... argv) throws Exception {
        return HostCommands.sh(net.command(List.of(argv)).toArray(String[]::new));
    }

    private static JsonNode exec(String ns, String id, String script) {
        var r = api("POST", "/v1/namespaces/" + ns + "/machines/" + id + "/exec",
                dev.bolero.api.ApiJson.mapper().writeValueAsString(java.util.Map.of("cmd", List.of("sh", "-c", script))));
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        return r.json();
    }

    private static HttpResponse<String> get(HttpClient http, String host) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(gatewayUrl + "/")).header("Host", host)
                .timeout(Duration.ofSeconds(300)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private static void awaitState(String id, String state) {
        var last = new AtomicReference<JsonNode>();
        await().atMost(Duration.ofSeconds(240)).pollInterval(Duration.ofMillis(200)).untilAsserted(() -> {
            last.set(api("GET", "/v1/namespaces/alpha/machines/" + id, null).json());
            assertThat(last.get().path("state").asString()).as("%s", last.get()).isEqualTo(state);
        });
    }

    private static Response api(String method, String path, String body) {
        return call(method, serverUrl() + path, ADMIN, body);
    }

    private static List<String> servers() {
        return List.of(serverUrl());
    }

    private static String serverUrl() {
        return "http://" + network.hostIp() + ":" + server.port();
    }
}
