package dev.bolero.server;

import java.nio.file.Path;
import java.util.Optional;

/** A server replica in its own JVM, so a test can kill it with SIGKILL: {@code ReplicaMain DATA_DIR DB_URL}. */
public final class ReplicaMain {
    private ReplicaMain() {}

    public static void main(String[] args) throws InterruptedException {
        var server = Server.start(ClusterSuite.config(Path.of(args[0]), Optional.of(args[1])));
        System.out.println("REPLICA-PORT " + server.port());
        System.out.flush();
        Thread.currentThread().join();
    }
}
