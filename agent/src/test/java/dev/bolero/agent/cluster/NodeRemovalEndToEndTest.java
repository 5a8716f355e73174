package dev.bolero.agent.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.bolero.network.testing.HostCommands;
import dev.bolero.server.Http.Response;
import dev.bolero.server.cluster.NodeRegistry;
import java.nio.file.Path;
import java.time.Duration;
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
    @TempDir
    static Path dir;

    private static TestCluster cluster;

    @BeforeAll
    static void setUp() throws Exception {
        // The removed agent leaves 10 s after its credential is first refused.
        cluster = TestCluster.builder(dir, "removal").nodes("r1", "r2").privateNetwork()
                .timing(new NodeRegistry.Timing(Duration.ofSeconds(1), Duration.ofSeconds(60), Duration.ofSeconds(10)))
                .start();
    }

    @AfterAll
    static void tearDown() throws Exception {
        if (cluster != null) cluster.close();
    }

    @Test
    void a_removed_node_s_agent_takes_its_link_down_and_its_peer_drops_it() throws Exception {
        AgentNode kept = cluster.node("r1");
        AgentNode removed = cluster.node("r2");
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(250)).untilAsserted(() ->
                assertThat(cluster.wg(kept, "peers")).contains(cluster.wg(removed, "public-key").strip()));
        assertThat(removed.dataDir.resolve("private-network.json")).exists();

        assertThat(cluster.api("POST", "/v1/nodes/" + removed.id + "/cordon", null).status()).isEqualTo(200);
        Response gone = cluster.api("DELETE", "/v1/nodes/" + removed.id, null);
        assertThat(gone.status()).as(gone.body()).isEqualTo(204);

        // The peer goes at the kept node's next poll; the removed agent leaves once its fence deadline (10 s) passes
        // with every heartbeat refused.
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(250)).untilAsserted(() -> {
            assertThat(cluster.wg(kept, "peers")).as("peers of the kept node").isBlank();
            assertThat(links(removed)).as("links in the removed node's namespace")
                    .doesNotContain(cluster.link(removed));
            assertThat(AgentNode.processesMentioning(cluster.link(removed))).as("wireguard-go of the removed link")
                    .isEmpty();
        });
        assertThat(removed.dataDir.resolve("private-network.json")).doesNotExist();
        assertThat(removed.output).anyMatch(line -> line.contains("it was removed from the cluster; leaving it"));
        // The kept node's own link is untouched, and its agent still heartbeats.
        assertThat(links(kept)).contains(cluster.link(kept));
        assertThat(cluster.api("GET", "/v1/nodes/" + kept.id, null).json().path("state").asString())
                .isEqualTo("ready");
        assertThat(cluster.api("GET", "/v1/nodes/" + removed.id, null).status()).isEqualTo(404);
    }

    /** The names of the links in the node's namespace. */
    private static String links(AgentNode node) throws Exception {
        return HostCommands.sh(node.net.command(List.of("ip", "-o", "link", "show")).toArray(String[]::new));
    }
}
