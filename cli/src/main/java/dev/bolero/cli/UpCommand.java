package dev.bolero.cli;

import dev.bolero.agent.Agent;
import dev.bolero.agent.AgentConfig;
import dev.bolero.agent.cluster.ClusterConfig;
import dev.bolero.agent.cluster.ClusterMember;
import dev.bolero.agent.cluster.PrivateNetworkConfig;
import dev.bolero.client.BoleroClient;
import dev.bolero.gateway.ClusterGateway;
import dev.bolero.gateway.DevelopmentCa;
import dev.bolero.runtime.qemu.QemuDriver;
import dev.bolero.server.Server;
import dev.bolero.server.ServerConfig;
import java.io.IOException;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code bolero up}: a control-plane server (SQLite, which makes the {@code default} namespace) and a node agent
 * joined to it, in one process. Prints the admin token the first time and stores server URL and token in the CLI
 * config, so {@code bolero run IMAGE} works next. Machines get the network {@code bolero agent} gives them (egress, published
 * ports, tenants isolated) unless {@code --no-network}, and the node joins the cluster's private network (a WireGuard
 * link on 127.0.0.1 and {@code --private-network-port}, by default a free one, named after the device prefix):
 * machines get private addresses and DNS names, as on any node. With {@code --gateway-listen}, a gateway too, serving fleets with an
 * {@code http_service} at {@code FLEET.NS.DOMAIN} ({@code bolero gateway} with the development CA); on this host it
 * reaches the machines by their private addresses through their bridges, so it needs no link of its own.
 */
@Command(name = "up", mixinStandardHelpOptions = true, description = "Run a server and an agent in one process (SQLite).")
final class UpCommand implements Callable<Integer> {
    @Mixin
    LogFormat logFormat;

    /** The context {@code up} writes and makes current. */
    static final String LOCAL = "local";

    @Option(names = "--data-dir", defaultValue = "${user.home}/.local/share/bolero", description = "server/ and agent/ live here (default ${DEFAULT-VALUE})")
    Path dataDir;

    @Option(names = "--listen", defaultValue = "127.0.0.1:7080", description = "host:port of the /v1 API (default ${DEFAULT-VALUE})")
    String listen;

    @Option(names = "--agent-listen", defaultValue = "127.0.0.1:7070", description = "host:port of the node API (default ${DEFAULT-VALUE})")
    String agentListen;

    @Option(names = "--accel", defaultValue = "auto", description = "auto, kvm or tcg (default ${DEFAULT-VALUE})")
    QemuDriver.Accel accelerator;

    @Mixin
    NetworkFlags network;

    @Option(names = "--private-network-port", defaultValue = "0", description = "UDP port of the node's WireGuard "
            + "link (on 127.0.0.1) in the cluster's private network, which gives machines their private addresses and "
            + "DNS names (default: a free port, picked at each start; no link with --no-network)")
    int privateNetworkPort;

    @Mixin
    PrivateNetworkPlanFlags privateNetworkPlan;

    @Option(names = "--gateway-listen", paramLabel = "HOST:PORT", description = "also run a gateway serving fleets "
            + "with an http_service over HTTP here, at FLEET.NS.DOMAIN (see bolero gateway)")
    String gatewayListen;

    @Option(names = "--gateway-https-listen", paramLabel = "HOST:PORT", description = "the gateway's HTTPS too, with "
            + "certificates from a development CA in DATA_DIR/gateway/dev-ca (clients trust its ca.pem)")
    String gatewayHttpsListen;

    @Option(names = "--domain", defaultValue = "localhost", description = "the gateway's domain (default "
            + "${DEFAULT-VALUE}: names under it resolve to this host)")
    String domain;

    @Override
    public Integer call() throws Exception {
        if (gatewayHttpsListen != null && gatewayListen == null) {
            throw new IllegalArgumentException("--gateway-https-listen needs --gateway-listen");
        }
        Path root = dataDir.toAbsolutePath();
        int colon = listen.lastIndexOf(':');
        int agentColon = agentListen.lastIndexOf(':');
        if (colon < 0 || agentColon < 0) throw new IllegalArgumentException("--listen and --agent-listen are host:port");
        String host = listen.substring(0, colon);
        CountDownLatch stopped = new CountDownLatch(1);
        try (Server server = Server.start(privateNetworkPlan.applyTo(ServerConfig.of(host,
                Integer.parseInt(listen.substring(colon + 1)), root.resolve("server"))));
             Agent agent = Agent.start(new AgentConfig(agentListen.substring(0, agentColon),
                     Integer.parseInt(agentListen.substring(agentColon + 1)), root.resolve("agent"), Set.of(),
                     accelerator, Optional.empty(), Duration.ofSeconds(120)).withNetwork(network.config()))) {
            String url = "http://" + (host.equals("0.0.0.0") ? "127.0.0.1" : host) + ":" + server.port();
            String admin = Files.readString(server.adminTokenFile().orElseThrow()).strip();
            String join = Files.readString(server.joinTokenFile().orElseThrow()).strip();
            agent.joinCluster(inPrivateNetwork(new ClusterConfig(URI.create(url), join, "local", Map.of(),
                    Optional.empty()), root.resolve("agent")));
            CliConfig saved = CliConfig.load().orElse(new CliConfig(null, Map.of()));
            var local = Optional.ofNullable(saved.contexts().get(LOCAL));
            if (local.isEmpty() || !admin.equals(local.get().token()) || !url.equals(local.get().server())) {
                saved.with(LOCAL, new CliConfig.Context(url, admin, local.map(CliConfig.Context::namespace)
                        .orElse("default")), true).store();
                System.out.println("admin token (shown once, stored in " + CliConfig.file() + " as context '"
                        + LOCAL + "'): " + admin);
            }
            try (ClusterGateway gateway = gatewayListen == null ? null : gateway(url, admin, root)) {
                Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                    if (gateway != null) gateway.close();
                    agent.close();
                    server.close();
                    stopped.countDown();
                }, "up-shutdown"));
                System.out.printf("bolero up: server %s (web console %s/ui), node API http://%s:%d, data dir %s%s%n",
                        url, url, agentListen.substring(0, agentColon), agent.port(), root, gateway == null ? ""
                                : ", gateway " + GatewayCommand.listening(gateway, domain));
                stopped.await();
            }
        }
        return 0;
    }

    /**
     * {@code cluster} with the node in the private network, by a link named after its devices; as is with no network,
     * or when the node joined without it (said on stderr).
     */
    private ClusterConfig inPrivateNetwork(ClusterConfig cluster, Path agentDir) throws IOException {
        if (network.noNetwork) return cluster;
        if (ClusterMember.joinedInPrivateNetwork(agentDir).equals(Optional.of(false))) {
            System.err.println("bolero up: this node joined without the private network (an earlier bolero up), and a "
                    + "node's part in it is fixed at its join: machines get no private address, and the gateway cannot "
                    + "reach them. To join again as a new node (the old node's machines here are then destroyed), "
                    + "stop, remove " + agentDir.resolve("node.json") + " and start again.");
            return cluster;
        }
        int port = privateNetworkPort;
        if (port == 0) {
            // Nothing else reaches a one-host cluster's link: any free port will do, and none is taken for good.
            try (var probe = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0))) {
                port = probe.getLocalPort();
            }
        }
        return cluster.withPrivateNetwork(PrivateNetworkConfig.of("127.0.0.1:" + port)
                .withLink(network.devicePrefix + "wg0"));
    }

    /** A gateway following this process's server with the admin token, its certificates from a development CA. */
    private ClusterGateway gateway(String url, String admin, Path root) throws IOException {
        var gateway = ClusterGateway.start(new BoleroClient(URI.create(url), admin), domain, builder -> {
            builder.httpListen(GatewayCommand.address("--gateway-listen", gatewayListen));
            if (gatewayHttpsListen != null) {
                builder.httpsListen(GatewayCommand.address("--gateway-https-listen", gatewayHttpsListen), List.of());
            }
            return builder;
        });
        if (gatewayHttpsListen != null) {
            try {
                gateway.keepCertificates(DevelopmentCa.openOrCreate(root.resolve("gateway/dev-ca")),
                        root.resolve("gateway/certs"), Duration.ofDays(30));
            } catch (IOException | RuntimeException e) {
                gateway.close();
                throw e;
            }
        }
        return gateway;
    }
}
