package dev.bolero.agent.cluster;

import static dev.bolero.server.Http.call;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.bolero.agent.ClusterNetwork;
import dev.bolero.network.testing.HostCommands;
import dev.bolero.server.Http.Response;
import dev.bolero.server.Server;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A node removed from the cluster ({@code DELETE /v1/nodes/{id}}) leaves the private network by itself: two real
 * agents, each in its own network namespace with a {@code wireguard-go} link, no VM. Once the control plane has
 * refused the removed node's credential for its fence deadline, its agent removes its link (interface and userspace
 * process) and its stored layout; the other node has dropped it as a peer.
 */
class NodeRemovalEndToEndTest {
    private static final String ADMIN = "admin-token-removal-e2e-0123456789";
    private static final String JOIN = "join-token-removal-e2e-0123456789";

    @TempDir
    static Path dir;

    private static ClusterNetwork network;
    private static Server server;
    private static final List<AgentNode> nodes = new ArrayList<>();
    private static final List<String> links = new ArrayList<>();

    @BeforeAll
    static void setUp() throws Exception {
        network = ClusterNetwork.create();
        HostCommands.assumeRootWith("for the private network's links", "wireguard-go", "wg");
        server = AgentNode.startServer(network, dir, ADMIN, JOIN);
        String id = HostCommands.randomId();
        for (String name : List.of("r1", "r2")) {
            var net = network.addNode();
            // No machine is made: the registry is never asked.
            var node = new AgentNode(name, dir.resolve(name), net, NodeRemovalEndToEndTest::servers, JOIN,
                    "127.0.0.1:1");
            String link = "bw" + id + name;
            links.add(link);
            node.extraArguments = ClusterAgentMain.privateNetwork(net.ip() + ":51820", link);
            nodes.add(node);
            node.start();
        }
    }

    @AfterAll
    static void tearDown() throws Exception {
        try {
            AgentNode.tearDown(nodes, dir, server, null, network);
        } finally {
            for (String link : links) Files.deleteIfExists(Path.of("/var/run/wireguard/" + link + ".sock"));
        }
    }

    @Test
    void a_removed_node_s_agent_takes_its_link_down_and_its_peer_drops_it() throws Exception {
        AgentNode kept = nodes.get(0);
        AgentNode removed = nodes.get(1);
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(250)).untilAsserted(() ->
                assertThat(wg(kept, "peers")).contains(wg(removed, "public-key").strip()));
        assertThat(removed.dataDir.resolve("private-network.json")).exists();

        assertThat(api("POST", "/v1/nodes/" + removed.id + "/cordon").status()).isEqualTo(200);
        Response gone = api("DELETE", "/v1/nodes/" + removed.id);
        assertThat(gone.status()).as(gone.body()).isEqualTo(204);

        // The peer goes at the kept node's next poll; the removed agent leaves once its fence deadline (4 s) passes
        // with every heartbeat refused.
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(250)).untilAsserted(() -> {
            assertThat(wg(kept, "peers")).as("peers of the kept node").isBlank();
            assertThat(links(removed)).as("links in the removed node's namespace").doesNotContain(link(removed));
            assertThat(AgentNode.processesMentioning(link(removed))).as("wireguard-go of the removed link").isEmpty();
        });
        assertThat(removed.dataDir.resolve("private-network.json")).doesNotExist();
        assertThat(removed.output).anyMatch(line -> line.contains("it was removed from the cluster; leaving it"));
        // The kept node's own link is untouched, and its agent still heartbeats.
        assertThat(links(kept)).contains(link(kept));
        assertThat(api("GET", "/v1/nodes/" + kept.id).json().path("state").asString()).isEqualTo("ready");
        assertThat(api("GET", "/v1/nodes/" + removed.id).status()).isEqualTo(404);
    }

    private static String link(AgentNode node) {
        return links.get(nodes.indexOf(node));
    }

    /** The names of the links in the node's namespace. */
    private static String links(AgentNode node) throws Exception {
        return HostCommands.sh(node.net.command(List.of("ip", "-o", "link", "show")).toArray(String[]::new));
    }

    /** {@code wg show <link> <what>} in the node's namespace. */
    private static String wg(AgentNode node, String what) throws Exception {
        return HostCommands.sh(node.net.command(List.of("wg", "show", link(node), what)).toArray(String[]::new));
    }

    private static Response api(String method, String path) {
        return call(method, servers().getFirst() + path, ADMIN, null);
    }

    private static List<String> servers() {
        return List.of("http://" + network.hostIp() + ":" + server.port());
    }
}
