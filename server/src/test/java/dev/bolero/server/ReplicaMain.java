package dev.bolero.server;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * A server replica in its own JVM, so a test can kill it with SIGKILL: {@code ReplicaMain DATA_DIR DB_URL [PORT]}
 * (without a port, any free one). Prints {@code REPLICA-PORT} and the port once it serves.
 */
public final class ReplicaMain {
    private ReplicaMain() {}

    public static void main(String[] args) throws InterruptedException {
        var server = Server.start(ClusterSuite.config(Path.of(args[0]), Optional.of(args[1]),
                args.length > 2 ? Integer.parseInt(args[2]) : 0));
        System.out.println("REPLICA-PORT " + server.port());
        System.out.flush();
        Thread.currentThread().join();
    }

    /** Starts a replica in a new JVM on this test's class path, storing in {@code db}, listening on {@code port}. */
    static Process start(Path dataDir, String db, int port) throws IOException {
        String java = ProcessHandle.current().info().command().orElse("java");
        return new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"), ReplicaMain.class.getName(),
                dataDir.toString(), db, Integer.toString(port)).redirectErrorStream(true).start();
    }

    /** Reads the replica's port from its output (waiting up to 120 s for it to serve), then keeps draining it. */
    static int port(Process replica) throws Exception {
        var reader = new BufferedReader(new InputStreamReader(replica.getInputStream()));
        var port = CompletableFuture.supplyAsync(() -> {
            try {
                String line;
                while ((line = reader.readLine()) != null) {
                    if (line.startsWith("REPLICA-PORT ")) return Integer.parseInt(line.substring(13).strip());
                }
                throw new IllegalStateException("the replica exited before serving");
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
        int p = port.get(120, TimeUnit.SECONDS);
        Thread.ofVirtual().start(() -> {
            try {
                reader.transferTo(Writer.nullWriter());
            } catch (IOException e) {
                // the replica was killed
            }
        });
        return p;
    }
}
