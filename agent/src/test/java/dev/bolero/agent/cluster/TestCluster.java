package dev.bolero.agent.cluster;

import static dev.bolero.server.Http.call;

import dev.bolero.agent.ClusterNetwork;
import dev.bolero.network.testing.HostCommands;
import dev.bolero.oci.testing.ImageSpec;
import dev.bolero.oci.testing.TestImages;
import dev.bolero.oci.testing.TestRegistry;
import dev.bolero.server.Http.Response;
import dev.bolero.server.Server;
import dev.bolero.server.ServerConfig;
import dev.bolero.server.cluster.NodeRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.UnaryOperator;

/**
 * The cluster of an end-to-end test, all real parts: a {@link ClusterNetwork}, a registry on its host address holding
 * the test's image (when it has one), a control plane, and agents ({@link AgentNode}), each in its own network
 * namespace, optionally each with a {@code wireguard-go} link of the private network. {@link #close()} tears it all
 * down, each step even when one before it failed (agents and their VMMs, server, registry, network, links' sockets);
 * a {@link Builder#start()} that fails closes what it had made.
 */
final class TestCluster implements AutoCloseable {
    /**
     * Heartbeats every second, a node fenced after 30 s and down after 60 s of silence: a test that does not lose nodes
     * on purpose must not lose one to a host so loaded that an agent misses heartbeats for seconds (seen: 8 s).
     */
    static final NodeRegistry.Timing PATIENT = new NodeRegistry.Timing(Duration.ofSeconds(1), Duration.ofSeconds(60),
            Duration.ofSeconds(30));
    /** Heartbeats every second, a node fenced after 4 s and down after 8 s of silence: for tests that lose nodes. */
    static final NodeRegistry.Timing QUICK_LOSS = new NodeRegistry.Timing(Duration.ofSeconds(1), Duration.ofSeconds(8),
            Duration.ofSeconds(4));

    final String admin;
    final String join;
    private final Path dir;
    private ClusterNetwork network;
    private TestRegistry registry;
    private Server server;
    private String image;
    private final List<AgentNode> nodes = new ArrayList<>();
    private final List<String> links = new ArrayList<>();

    private TestCluster(Path dir, String name) {
        this.dir = dir;
        this.admin = "admin-token-" + name + "-e2e-0123456789";
        this.join = "join-token-" + name + "-e2e-0123456789";
    }

    /**
     * @param dir the test's directory: the server's and each agent's data go below it
     * @param name the test's name, in its tokens
     */
    static Builder builder(Path dir, String name) {
        return new Builder(dir, name);
    }

    static final class Builder {
        private final Path dir;
        private final String name;
        private Optional<String> repository = Optional.empty();
        private ImageSpec imageSpec;
        private NodeRegistry.Timing timing = PATIENT;
        private UnaryOperator<ServerConfig> server = UnaryOperator.identity();
        private List<String> nodes = List.of();
        private boolean privateNetwork;

        private Builder(Path dir, String name) {
            this.dir = dir;
            this.name = name;
        }

        /** The test's image, pushed to the cluster's registry as {@code repository} ({@code deploy/web:1}). */
        Builder image(String repository, ImageSpec spec) {
            this.repository = Optional.of(repository);
            this.imageSpec = spec;
            return this;
        }

        /** The control plane's node timing ({@link #PATIENT} unless told). */
        Builder timing(NodeRegistry.Timing timing) {
            this.timing = timing;
            return this;
        }

        /** More of the server's config, over the cluster's own (address, directory, tokens, timing). */
        Builder server(UnaryOperator<ServerConfig> more) {
            this.server = more;
            return this;
        }

        /** The agents, by name (also their {@code node} label), started in this order. */
        Builder nodes(String... names) {
            this.nodes = List.of(names);
            return this;
        }

        /** Every agent takes part in the private network, with its own {@code wireguard-go} link. */
        Builder privateNetwork() {
            this.privateNetwork = true;
            return this;
        }

        /** Makes and starts it all, or skips the test saying what this host lacks. */
        TestCluster start() throws Exception {
            var c = new TestCluster(dir, name);
            try {
                c.network = ClusterNetwork.create();
                if (privateNetwork) HostCommands.assumeRootWith("for the private network's links", "wireguard-go", "wg");
                if (repository.isPresent()) {
                    c.registry = TestRegistry.startOn(c.network.hostIp());
                    c.image = TestImages.push(c.registry, repository.get(), imageSpec);
                }
                c.server = Server.start(server.apply(ServerConfig.of(c.network.hostIp(), 0, dir.resolve("server"))
                        .withTokens(Optional.of(c.admin), Optional.of(c.join))
                        .withTiming(timing, Duration.ofMillis(200))));
                String linkId = HostCommands.randomId();
                for (String node : nodes) {
                    var net = c.network.addNode();
                    // A cluster without an image never makes a machine: its agents never ask the registry.
                    var agent = new AgentNode(node, dir.resolve(node), net, () -> List.of(c.serverUrl()), c.join,
                            c.registry == null ? "127.0.0.1:1" : c.registry.host());
                    if (privateNetwork) {
                        String link = "bw" + linkId + node;
                        c.links.add(link);
                        agent.extraArguments = ClusterAgentMain.privateNetwork(net.ip() + ":51820", link);
                    }
                    c.nodes.add(agent);
                    agent.start();
                }
                return c;
            } catch (Throwable e) {
                try {
                    c.close();
                } catch (Exception suppressed) {
                    e.addSuppressed(suppressed);
                }
                throw e;
            }
        }
    }

    /** A call to the server's API with the admin token. */
    Response api(String method, String path, String body) {
        return call(method, serverUrl() + path, admin, body);
    }

    String serverUrl() {
        return "http://" + network.hostIp() + ":" + server.port();
    }

    Server server() {
        return server;
    }

    ClusterNetwork network() {
        return network;
    }

    TestRegistry registry() {
        return registry;
    }

    /** The pushed image's reference. */
    String image() {
        return image;
    }

    List<AgentNode> nodes() {
        return nodes;
    }

    AgentNode node(String name) {
        return nodes.stream().filter(n -> n.name.equals(name)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no node " + name));
    }

    /** The name of the node's private-network link. */
    String link(AgentNode node) {
        return links.get(nodes.indexOf(node));
    }

    /** {@code wg show <link> <what>} in the node's namespace. */
    String wg(AgentNode node, String what) throws Exception {
        return HostCommands.sh(node.net.command(List.of("wg", "show", link(node), what)).toArray(String[]::new));
    }

    @Override
    public void close() throws Exception {
        try {
            AgentNode.tearDown(nodes, dir, server, registry, network);
        } finally {
            // wireguard-go runs in its node's namespace, which the network's close empties; a killed one leaves its
            // control socket.
            for (String link : links) Files.deleteIfExists(Path.of("/var/run/wireguard/" + link + ".sock"));
        }
    }
}
