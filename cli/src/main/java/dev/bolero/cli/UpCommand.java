package dev.bolero.cli;

import dev.bolero.agent.Agent;
import dev.bolero.agent.AgentConfig;
import dev.bolero.agent.cluster.ClusterConfig;
import dev.bolero.runtime.qemu.QemuDriver;
import dev.bolero.server.Server;
import dev.bolero.server.ServerConfig;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
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
 * ports, tenants isolated) unless {@code --no-network}.
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

    @Override
    public Integer call() throws Exception {
        Path root = dataDir.toAbsolutePath();
        int colon = listen.lastIndexOf(':');
        int agentColon = agentListen.lastIndexOf(':');
        if (colon < 0 || agentColon < 0) throw new IllegalArgumentException("--listen and --agent-listen are host:port");
        String host = listen.substring(0, colon);
        CountDownLatch stopped = new CountDownLatch(1);
        try (Server server = Server.start(ServerConfig.of(host, Integer.parseInt(listen.substring(colon + 1)),
                root.resolve("server")));
             Agent agent = Agent.start(new AgentConfig(agentListen.substring(0, agentColon),
                     Integer.parseInt(agentListen.substring(agentColon + 1)), root.resolve("agent"), Set.of(),
                     accelerator, Optional.empty(), Duration.ofSeconds(120)).withNetwork(network.config()))) {
            String url = "http://" + (host.equals("0.0.0.0") ? "127.0.0.1" : host) + ":" + server.port();
            String admin = Files.readString(server.adminTokenFile().orElseThrow()).strip();
            String join = Files.readString(server.joinTokenFile().orElseThrow()).strip();
            agent.joinCluster(new ClusterConfig(URI.create(url), join, "local", Map.of(), Optional.empty()));
            CliConfig saved = CliConfig.load().orElse(new CliConfig(null, Map.of()));
            var local = Optional.ofNullable(saved.contexts().get(LOCAL));
            if (local.isEmpty() || !admin.equals(local.get().token()) || !url.equals(local.get().server())) {
                saved.with(LOCAL, new CliConfig.Context(url, admin, local.map(CliConfig.Context::namespace)
                        .orElse("default")), true).store();
                System.out.println("admin token (shown once, stored in " + CliConfig.file() + " as context '"
                        + LOCAL + "'): " + admin);
            }
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                agent.close();
                server.close();
                stopped.countDown();
            }, "up-shutdown"));
            System.out.printf("bolero up: server %s (web console %s/ui), node API http://%s:%d, data dir %s%n",
                    url, url, agentListen.substring(0, agentColon), agent.port(), root);
            stopped.await();
        }
        return 0;
    }
}
