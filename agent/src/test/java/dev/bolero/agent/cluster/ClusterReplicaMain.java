package dev.bolero.agent.cluster;

import dev.bolero.server.Server;
import dev.bolero.server.ServerConfig;
import dev.bolero.server.cluster.NodeRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;

/**
 * A control-plane replica in its own JVM, so a test can SIGKILL it: {@code ClusterReplicaMain DATA_DIR DB_URL HOST
 * ADMIN_TOKEN JOIN_TOKEN}. Prints {@code REPLICA-PORT <port>} once it serves.
 */
public final class ClusterReplicaMain {
    private ClusterReplicaMain() {}

    public static void main(String[] args) throws InterruptedException {
        var server = Server.start(config(Path.of(args[0]), args[1], args[2], args[3], args[4]));
        System.out.println("REPLICA-PORT " + server.port());
        System.out.flush();
        Thread.currentThread().join();
    }

    /** A replica on {@code db} listening on {@code host}, with the cluster tests' short heartbeat and node-loss times. */
    static ServerConfig config(Path dataDir, String db, String host, String admin, String join) {
        return ServerConfig.of(host, 0, dataDir).withDatabase(db)
                .withTokens(Optional.of(admin), Optional.of(join))
                .withTiming(new NodeRegistry.Timing(Duration.ofSeconds(1), Duration.ofSeconds(8),
                        Duration.ofSeconds(4)), Duration.ofMillis(200));
    }
}
