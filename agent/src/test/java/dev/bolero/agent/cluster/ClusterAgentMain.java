package dev.bolero.agent.cluster;

import dev.bolero.agent.Agent;
import dev.bolero.agent.AgentConfig;
import dev.bolero.api.wire.Capacity;
import dev.bolero.network.NetworkConfig;
import dev.bolero.runtime.qemu.QemuDriver;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * A cluster agent in its own JVM, so a test can SIGKILL it (and run it inside a network namespace):
 * {@code ClusterAgentMain DATA_DIR SERVER_URL[,SERVER_URL…] JOIN_TOKEN NODE_NAME LABELS CPUS MEMORY_MB LISTEN_HOST
 * INSECURE_REGISTRY POOL DEVICE_PREFIX TABLE PUBLISH_ADDRESS}. Prints {@code AGENT-PORT <node api port> NODE <node id>}
 * once it serves and has joined.
 */
public final class ClusterAgentMain {
    private ClusterAgentMain() {}

    public static void main(String[] args) throws InterruptedException {
        try {
            run(args);
        } catch (RuntimeException e) {
            e.printStackTrace();
            System.exit(1);
        }
        Thread.currentThread().join();
    }

    /** The arguments that start an agent with these settings. */
    static List<String> arguments(Path dataDir, List<String> servers, String joinToken, String name, String labels,
                                  int cpus, long memoryMb, String listenHost, String insecureRegistry,
                                  NetworkConfig network) {
        return List.of(dataDir.toString(), String.join(",", servers), joinToken, name, labels, Integer.toString(cpus),
                Long.toString(memoryMb), listenHost, insecureRegistry, network.pool(), network.devicePrefix(),
                network.table(), network.publishAddress());
    }

    /** Arguments that put the agent in the private network: its endpoint and its WireGuard link's name. */
    static List<String> privateNetwork(String endpoint, String link) {
        return List.of(endpoint, link);
    }

    private static void run(String[] args) {
        var network = new NetworkConfig(args[9], 24, args[10], args[11], args[12], List.of(), Optional.empty());
        var agent = Agent.start(new AgentConfig(args[7], 0, Path.of(args[0]), Set.of(args[8]), QemuDriver.Accel.AUTO,
                Optional.empty(), Duration.ofSeconds(180)).withNetwork(Optional.of(network)));
        var cluster = new ClusterConfig(Arrays.stream(args[1].split(",")).map(URI::create).toList(),
                args[2], args[3], ClusterConfig.parseLabels(args[4]),
                Optional.of(new Capacity(Integer.parseInt(args[5]), Long.parseLong(args[6]))));
        if (args.length > 13) cluster = cluster.withPrivateNetwork(PrivateNetworkConfig.of(args[13]).withLink(args[14]));
        var member = agent.joinCluster(cluster);
        System.out.println("AGENT-PORT " + agent.port() + " NODE " + member.nodeId());
        System.out.flush();
    }
}
