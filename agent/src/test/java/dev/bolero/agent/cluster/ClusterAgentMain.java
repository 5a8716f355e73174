package dev.bolero.agent.cluster;

import dev.bolero.agent.Agent;
import dev.bolero.agent.AgentConfig;
import dev.bolero.api.wire.Capacity;
import dev.bolero.runtime.qemu.QemuDriver;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.Set;

/**
 * A cluster agent in its own JVM, so a test can SIGKILL it:
 * {@code ClusterAgentMain DATA_DIR SERVER_URL JOIN_TOKEN NODE_NAME LABELS CPUS MEMORY_MB}.
 * Prints {@code AGENT-PORT <node api port> NODE <node id>} once it serves and has joined.
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

    private static void run(String[] args) {
        var agent = Agent.start(new AgentConfig("127.0.0.1", 0, Path.of(args[0]), Set.of(), QemuDriver.Accel.AUTO,
                Optional.empty(), Duration.ofSeconds(180)));
        var member = agent.joinCluster(new ClusterConfig(URI.create(args[1]), args[2], args[3],
                ClusterConfig.parseLabels(args[4]),
                Optional.of(new Capacity(Integer.parseInt(args[5]), Long.parseLong(args[6])))));
        System.out.println("AGENT-PORT " + agent.port() + " NODE " + member.nodeId());
        System.out.flush();
    }
}
