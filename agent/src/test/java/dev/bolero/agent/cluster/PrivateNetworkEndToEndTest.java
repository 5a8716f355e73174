package dev.bolero.agent.cluster;

import static dev.bolero.server.Http.call;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.bolero.api.testing.PrometheusText;
import dev.bolero.network.PrivateAddressing;
import dev.bolero.network.testing.HostCommands;
import dev.bolero.oci.testing.ImageSpec;
import dev.bolero.server.Http.Response;
import dev.bolero.server.cluster.NodeRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

/**
 * The cluster's private network with real parts: a server, three agents each in its own network namespace, each with
 * a {@code wireguard-go} link and an internal DNS, and three real VMs: {@code alpha} on n1 and n2, {@code beta} on
 * n3. alpha's machines talk over TCP across nodes by private address and resolve each other's names; beta reaches
 * neither alpha's addresses nor its names.
 */
class PrivateNetworkEndToEndTest {
    @TempDir
    static Path dir;

    private static TestCluster cluster;
    private static String image;
    private static List<AgentNode> nodes;

    /**
     * A plan other than the default (another pool, /19 subnets, not /24), so the nodes' links, rules and DNS are
     * proven with the plan the server gives them, not with numbers they assume.
     */
    private static final PrivateAddressing PLAN = new PrivateAddressing("10.160.0.0/12", 3, 4);

    @BeforeAll
    static void setUp() throws Exception {
        // A node is down after 90 s of silence: long enough for an agent's restart on a loaded host (seen to take 40 s),
        // which must not move its machines.
        cluster = TestCluster.builder(dir, "private").image("private/web:1", ImageSpec.cmd("sh", "-c",
                "echo up; mkdir -p /www; hostname > /www/index.html; exec httpd -f -p 80 -h /www"))
                .timing(new NodeRegistry.Timing(Duration.ofSeconds(1), Duration.ofSeconds(90),
                        Duration.ofSeconds(60)))
                .server(config -> config.withPrivateNetwork(PLAN))
                .nodes("n1", "n2", "n3").privateNetwork().start();
        image = cluster.image();
        nodes = cluster.nodes();
        for (String ns : List.of("alpha", "beta")) {
            assertThat(api("POST", "/v1/namespaces", "{\"name\": \"" + ns + "\"}").status()).isEqualTo(201);
            assertThat(api("POST", "/v1/namespaces/" + ns + "/fleets", "{\"name\": \"web\", \"strategy\": \"spread\"}")
                    .status()).isEqualTo(201);
        }
    }

    @AfterAll
    static void tearDown() throws Exception {
        if (cluster != null) cluster.close();
    }

    @Test
    void alpha_talks_across_nodes_by_private_address_and_name_and_beta_reaches_neither() throws Exception {
        String a1 = create("alpha", "a1", "n1");
        String a2 = create("alpha", "a2", "n2");
        String b1 = create("beta", "b1", "n3");
        String ipA1 = privateIp("alpha", a1);
        String ipA2 = privateIp("alpha", a2);
        String ipB1 = privateIp("beta", b1);
        assertThat(List.of(ipA1, ipA2, ipB1)).allMatch(ip -> PLAN.nodeOf(ip).isPresent(), "in the cluster's pool");
        assertThat(ipA1.substring(0, ipA1.lastIndexOf('.'))).as("another node, another subnet")
                .isNotEqualTo(ipA2.substring(0, ipA2.lastIndexOf('.')));
        for (AgentNode n : nodes) {
            var info = call("GET", n.url() + "/api/v1/node", null, null).json();
            assertThat(info.path("wireguard").asString()).as("node info of %s", n.name).isEqualTo("userspace");
            var local = call("GET", n.url() + "/api/v1/machines", null, null).json();
            local.forEach(m -> assertThat(m.path("private_ip").asString()).isEqualTo(m.path("ip").asString()));
        }
        // each node's link has the two others as peers, on its /metrics
        for (AgentNode n : nodes) {
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(PrometheusText.parse(
                    call("GET", n.url() + "/metrics", null, null).body()).one("bolero_wireguard_peers",
                    Map.of("link", cluster.link(n))).value()).as("peers of %s", n.name).isEqualTo(2));
        }

        // busybox nc, not wget: Debian's static busybox wget crashes (SIGSEGV) looking up services without NSS.
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofSeconds(1)).untilAsserted(() -> {
            var fetched = exec("alpha", a2, "printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 2 " + ipA1 + " 80");
            assertThat(fetched.path("exit_code").asInt()).as("a2 on n2 fetches a1 on n1: %s", fetched).isZero();
            assertThat(fetched.path("stdout").asString()).startsWith("HTTP/1.").contains("a1");
        });
        var resolv = exec("alpha", a2, "cat /etc/resolv.conf").path("stdout").asString();
        assertThat(resolv).as("a2's resolver: its gateway, the node's internal DNS")
                .contains("nameserver " + ipA2.substring(0, ipA2.lastIndexOf('.')) + ".1", "search alpha.internal");
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofSeconds(1)).untilAsserted(() -> {
            var byFleet = exec("alpha", a2, "nslookup web.alpha.internal");
            assertThat(byFleet.path("stdout").asString()).as("%s", byFleet).contains(ipA1, ipA2);
            var byId = exec("alpha", a2, "nslookup " + a1 + ".vm.alpha.internal");
            assertThat(byId.path("stdout").asString()).as("%s", byId).contains(ipA1);
        });

        var refused = exec("beta", b1, "printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 2 " + ipA1 + " 80");
        assertThat(refused.path("exit_code").asInt()).as("b1 fetches a1: %s", refused).isNotZero();
        assertThat(refused.path("stdout").asString()).isEmpty();
        var foreign = exec("beta", b1, "nslookup web.alpha.internal");
        assertThat(foreign.path("stdout").asString() + foreign.path("stderr").asString()).as("%s", foreign)
                .doesNotContain(ipA1).containsIgnoringCase("NXDOMAIN");

        // Between nodes only WireGuard: a marker a1 serves crosses from n1 to n2 and never shows in a capture of n1's
        // underlay (everything between n1 and n2).
        String marker = "MARKER-" + HostCommands.randomId() + "-PRIVATE";
        assertThat(exec("alpha", a1, "echo " + marker + " > /www/marker.html").path("exit_code").asInt()).isZero();
        AgentNode n1 = nodes.get(0);
        AgentNode n2 = nodes.get(1);
        Path capture = dir.resolve("n1-underlay.pcap");
        Path tcpdumpLog = dir.resolve("n1-tcpdump.log");
        var tcpdump = new ProcessBuilder(n1.net.command(List.of("tcpdump", "--immediate-mode", "-U", "-n", "-i", "eth0", "-w",
                capture.toString(), "host", n2.net.ip()))).redirectErrorStream(true)
                .redirectOutput(tcpdumpLog.toFile()).start();
        try {
            await().atMost(Duration.ofSeconds(10)).until(() -> Files.readString(tcpdumpLog).contains("listening on"));
            var fetched = exec("alpha", a2, "printf 'GET /marker.html HTTP/1.0\\r\\n\\r\\n' | nc -w 2 " + ipA1 + " 80");
            assertThat(fetched.path("stdout").asString()).as("%s", fetched).contains(marker);
            // a pcap file's header is 24 bytes; the packets follow as tcpdump sees them
            await().atMost(Duration.ofSeconds(10)).until(() -> Files.size(capture) > 24);
        } finally {
            tcpdump.destroy();
            tcpdump.waitFor();
        }
        String summary = Files.readString(tcpdumpLog);
        String packets = HostCommands.sh("tcpdump", "-n", "-r", capture.toString());
        assertThat(packets.lines().filter(l -> !l.startsWith("reading from")).toList())
                .as("packets between n1 and n2 (tcpdump: %s)", summary).isNotEmpty()
                .allMatch(p -> p.contains(" UDP") && p.contains(".51820 > ") && p.contains(".51820:"), "WireGuard UDP");
        assertThat(HostCommands.sh("tcpdump", "-n", "-A", "-r", capture.toString())).doesNotContain(marker);

        // An established flow survives its node's agent being killed and restarted: a2 streams lines to a1 over one
        // TCP connection (nc -l takes one) through WireGuard, and a1 keeps receiving them after n1's agent is back.
        // (nc ends its connection at the end of its input: the listener's is a pipe that never ends)
        String receive = "setsid sh -c 'sleep 1000000 | nc -l -p 7000 > /www/flow' </dev/null >/dev/null 2>&1 &";
        assertThat(exec("alpha", a1, receive).path("exit_code").asInt()).isZero();
        String send = "setsid sh -c 'while :; do date; sleep 0.2; done | nc " + ipA1 + " 7000' </dev/null >/dev/null"
                + " 2>&1 &";
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofSeconds(1)).untilAsserted(() -> {
            if (exec("alpha", a2, "pidof nc").path("exit_code").asInt() != 0) exec("alpha", a2, send);
            assertThat(lines(a1, "/www/flow")).as("lines a1 received").isGreaterThan(5);
        });
        n1.kill();
        n1.start();
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> assertThat(n1.localState(a1)).isEqualTo("running"));
        assertThat(api("GET", "/v1/nodes/" + n1.id, null).json().path("state").asString()).as("n1 was never down")
                .isEqualTo("ready");
        int before = lines(a1, "/www/flow");
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofSeconds(1)).untilAsserted(() ->
                assertThat(lines(a1, "/www/flow")).as("lines a1 received after n1's agent restarted")
                        .isGreaterThan(before + 5));
        assertThat(exec("alpha", a1, "pidof nc").path("exit_code").asInt()).as("a1's listener, on its one connection")
                .isZero();
        assertThat(exec("alpha", a2, "pidof nc").path("exit_code").asInt()).as("a2's sender").isZero();
        assertThat(machineNode("alpha", a1)).as("a1 did not move").isEqualTo(n1.id);

        // A node that goes down leaves its peers' links, and its machine moves, keeping its name: reachable by it at its
        // new node. Back (its restarted agent adopts its link) the node is a peer again.
        assertThat(api("DELETE", "/v1/namespaces/beta/machines/" + b1, null).status()).isEqualTo(204);
        AgentNode n3 = nodes.get(2);
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> assertThat(n3.localMachines()).isZero());
        var spread = api("POST", "/v1/namespaces/alpha/fleets/web/machines", "{\"name\": \"a3\", \"start\": true, "
                + "\"config\": {\"image\": \"" + image + "\", \"guest\": {\"cpus\": 1, \"memory_mb\": 256}}}");
        assertThat(spread.status()).as(spread.body()).isEqualTo(201);
        String a3 = spread.json().path("id").asString();
        assertThat(spread.json().path("node_id").asString()).as("spread: the node without alpha's web").isEqualTo(n3.id);
        String ipA3 = privateIp("alpha", a3);
        String n3Key = wg(n3, "public-key").strip();
        assertThat(wg(n1, "peers")).contains(n3Key);
        n3.kill();
        await().atMost(Duration.ofSeconds(180)).untilAsserted(() -> {
            assertThat(api("GET", "/v1/nodes/" + n3.id, null).json().path("state").asString()).isEqualTo("down");
            assertThat(wg(n1, "peers")).doesNotContain(n3Key);
            assertThat(wg(n2, "peers")).doesNotContain(n3Key);
        });
        await().atMost(Duration.ofSeconds(240)).pollInterval(Duration.ofSeconds(1)).untilAsserted(() -> {
            assertThat(machineNode("alpha", a3)).as("a3 moved").isIn(n1.id, n2.id);
            String moved = privateIp("alpha", a3);
            var byName = exec("alpha", a2, "nslookup a3.alpha.internal");
            assertThat(byName.path("stdout").asString()).as("a3 by name after its move: %s", byName).contains(moved);
            var fetched = exec("alpha", a2, "printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 2 " + moved + " 80");
            assertThat(fetched.path("stdout").asString()).as("a3 at its new node: %s", fetched).contains("a3");
        });
        System.out.printf("private network: a3 moved from %s to %s, its name now %s (was %s)%n", n3.id,
                machineNode("alpha", a3), privateIp("alpha", a3), ipA3);
        n3.start();
        assertThat(wg(n3, "public-key").strip()).as("the restarted agent keeps its key").isEqualTo(n3Key);
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
            assertThat(wg(n1, "peers")).contains(n3Key);
            assertThat(wg(n3, "peers")).contains(wg(n1, "public-key").strip());
        });

        for (String id : List.of(a1, a2, a3)) {
            assertThat(api("DELETE", "/v1/namespaces/alpha/machines/" + id, null).status()).isEqualTo(204);
        }
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
            for (AgentNode n : nodes) assertThat(n.localMachines()).as("machines on %s", n.name).isZero();
        });
    }

    /** How many lines the file at {@code path} in machine {@code id} of alpha has. */
    private static int lines(String id, String path) {
        return Integer.parseInt(exec("alpha", id, "wc -l < " + path).path("stdout").asString().strip());
    }

    /** The node the control plane has the machine on. */
    private static String machineNode(String ns, String id) {
        return api("GET", "/v1/namespaces/" + ns + "/machines/" + id, null).json().path("node_id").asString();
    }

    /** {@code wg show <link> <what>} in the node's namespace. */
    private static String wg(AgentNode node, String what) throws Exception {
        return cluster.wg(node, what);
    }

    /** Creates a running machine of the test image on node {@code node} (by its label); its id. */
    private static String create(String ns, String name, String node) {
        var r = api("POST", "/v1/namespaces/" + ns + "/fleets/web/machines", "{\"name\": \"" + name
                + "\", \"start\": true, \"node_labels\": {\"node\": \"" + node + "\"}, \"config\": {\"image\": \""
                + image + "\", \"guest\": {\"cpus\": 1, \"memory_mb\": 256}}}");
        assertThat(r.status()).as("create %s: %s", name, r.body()).isEqualTo(201);
        return r.json().path("id").asString();
    }

    /** Waits until the machine runs and the control plane shows its private address. */
    private static String privateIp(String ns, String id) {
        var ip = new java.util.concurrent.atomic.AtomicReference<String>();
        await().atMost(Duration.ofSeconds(240)).pollInterval(Duration.ofMillis(500)).untilAsserted(() -> {
            JsonNode m = api("GET", "/v1/namespaces/" + ns + "/machines/" + id, null).json();
            assertThat(m.path("state").asString()).as("%s", m).isEqualTo("running");
            assertThat(m.path("private_ip").asString()).as("%s", m).isNotEmpty();
            ip.set(m.path("private_ip").asString());
        });
        return ip.get();
    }

    private static JsonNode exec(String ns, String id, String script) {
        var r = api("POST", "/v1/namespaces/" + ns + "/machines/" + id + "/exec",
                dev.bolero.api.ApiJson.mapper().writeValueAsString(java.util.Map.of("cmd", List.of("sh", "-c", script))));
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        return r.json();
    }

    private static Response api(String method, String path, String body) {
        return cluster.api(method, path, body);
    }
}
