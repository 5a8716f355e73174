package dev.bolero.agent.cluster;

import dev.bolero.server.Server;
import dev.bolero.server.ServerConfig;
import dev.bolero.server.cluster.NodeRegistry;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

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

    /** Starts a replica in a new JVM on this test's class path, as {@link #main} takes its arguments. */
    static Process start(Path dataDir, String db, String host, String admin, String join) throws IOException {
        String java = ProcessHandle.current().info().command().orElse("java");
        return new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"), ClusterReplicaMain.class.getName(),
                dataDir.toString(), db, host, admin, join).redirectErrorStream(true).start();
    }

    /**
     * Reads the replica's port from its output (waiting up to 120 s for it to serve), printing each line after
     * {@code prefix}, and keeps printing its output until it ends.
     */
    static int port(Process replica, String prefix) throws Exception {
        var reader = new BufferedReader(new InputStreamReader(replica.getInputStream(), StandardCharsets.UTF_8));
        int port = CompletableFuture.supplyAsync(() -> {
            try {
                String line;
                while ((line = reader.readLine()) != null) {
                    System.out.println(prefix + "| " + line);
                    if (line.startsWith("REPLICA-PORT ")) return Integer.parseInt(line.substring(13).strip());
                }
                throw new IllegalStateException("the replica exited before serving (its output is above)");
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }).get(120, TimeUnit.SECONDS);
        Thread.ofVirtual().start(() -> {
            try {
                reader.lines().forEach(line -> System.out.println(prefix + "| " + line));
            } catch (UncheckedIOException e) {
                // the replica was killed
            }
        });
        return port;
    }

    /** A replica on {@code db} listening on {@code host}, with the cluster tests' short heartbeat and node-loss times. */
    static ServerConfig config(Path dataDir, String db, String host, String admin, String join) {
        return ServerConfig.of(host, 0, dataDir).withDatabase(db)
                .withTokens(Optional.of(admin), Optional.of(join))
                .withTiming(new NodeRegistry.Timing(Duration.ofSeconds(1), Duration.ofSeconds(8),
                        Duration.ofSeconds(4)), Duration.ofMillis(200));
    }
}
