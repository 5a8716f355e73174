package dev.bolero.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bolero.api.http.ClientLimits;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;

/**
 * A real control plane on SQLite in a directory, with one live {@link FakeAgent} node and one machine placed on it:
 * {@code m1} of fleet {@code web} in namespace {@code alpha}; namespace {@code beta} exists and is empty. Stream
 * requests wait {@link #STREAM_PICKUP} for the node. For tests of callers of the server's relayed streams.
 */
public final class OneNodeCluster implements AutoCloseable {
    public static final String ADMIN = "admin-token-one-node-cluster-0123456789";
    public static final String JOIN = "join-token-one-node-cluster-0123456789";
    public static final Duration STREAM_PICKUP = Duration.ofSeconds(2);

    private final Server server;
    private final FakeAgent node;
    private final String machine;

    private OneNodeCluster(Server server, FakeAgent node, String machine) {
        this.server = server;
        this.node = node;
        this.machine = machine;
    }

    /** Starts the server with its data in {@code dir}, joins the node and places the machine. */
    public static OneNodeCluster start(Path dir) {
        return start(dir, ClientLimits.DEFAULT);
    }

    /** {@link #start(Path)} with the API's clients held to {@code limits}. */
    public static OneNodeCluster start(Path dir, ClientLimits limits) {
        Server server = Server.start(ServerConfig.of("127.0.0.1", 0, dir)
                .withTokens(Optional.of(ADMIN), Optional.of(JOIN)).withStreamPickup(STREAM_PICKUP)
                .withClientLimits(limits));
        FakeAgent node = null;
        try {
            node = FakeAgent.join(server.port(), JOIN, "node-1").live();
            var http = new Http(server.port());
            for (String ns : new String[] {"alpha", "beta"}) {
                assertThat(http.post("/v1/namespaces", ADMIN, Map.of("name", ns)).status()).isEqualTo(201);
            }
            assertThat(http.post("/v1/namespaces/alpha/fleets", ADMIN, Map.of("name", "web")).status())
                    .isEqualTo(201);
            var created = http.post("/v1/namespaces/alpha/fleets/web/machines", ADMIN, Map.of("name", "m1",
                    "start", true, "config", Map.of("image", "busybox", "guest", Map.of("cpus", 1, "memory_mb", 512))));
            assertThat(created.status()).as("%s", created).isEqualTo(201);
            return new OneNodeCluster(server, node, created.json().path("id").asString());
        } catch (RuntimeException | AssertionError e) {
            try {
                if (node != null) node.close();
            } catch (InterruptedException interrupted) {
                Thread.currentThread().interrupt();
            } finally {
                server.close();
            }
            throw e;
        }
    }

    public int port() {
        return server.port();
    }

    public FakeAgent node() {
        return node;
    }

    /** The id of machine {@code m1} in namespace {@code alpha}. */
    public String machine() {
        return machine;
    }

    @Override
    public void close() throws InterruptedException {
        try {
            node.close();
        } finally {
            server.close();
        }
    }
}
