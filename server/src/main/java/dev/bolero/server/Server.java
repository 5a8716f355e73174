package dev.bolero.server;

import dev.bolero.server.cluster.Bootstrap;
import dev.bolero.server.cluster.Cluster;
import dev.bolero.server.cluster.Tokens;
import dev.bolero.server.http.ServerApi;
import dev.bolero.server.store.ServerStore;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running control-plane server: store, services, singleton loops and the {@code /v1} API. Several servers may share
 * one PostgreSQL database; on SQLite there is one.
 */
public final class Server implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Server.class);

    private final ServerStore store;
    private final Cluster cluster;
    private final ServerApi api;
    private final Optional<Path> adminTokenFile;
    private final Optional<Path> joinTokenFile;

    private Server(ServerStore store, Cluster cluster, ServerApi api, Optional<Path> adminTokenFile,
                   Optional<Path> joinTokenFile) {
        this.store = store;
        this.cluster = cluster;
        this.api = api;
        this.adminTokenFile = adminTokenFile;
        this.joinTokenFile = joinTokenFile;
    }

    /**
     * Opens the store (migrating it), sets up the admin and join tokens, starts the loops and serves the API.
     *
     * @throws dev.bolero.server.store.StoreException when the database cannot be opened or migrated
     * @throws UncheckedIOException when the data directory or a token file cannot be written
     */
    public static Server start(ServerConfig config) {
        try {
            Files.createDirectories(config.dataDir());
        } catch (IOException e) {
            throw new UncheckedIOException("create data dir " + config.dataDir() + ": " + e.getMessage(), e);
        }
        ServerStore store = config.database().map(ServerStore::postgres)
                .orElseGet(() -> ServerStore.sqlite(config.dataDir().resolve("server.db")));
        Cluster cluster = null;
        try {
            Clock clock = Clock.systemUTC();
            var admin = Bootstrap.ensure(store, clock, config.dataDir(), "admin", config.adminToken());
            var join = Bootstrap.ensure(store, clock, config.dataDir(), "join", config.joinToken());
            cluster = Cluster.start(store, clock, config.timing(), config.loopInterval(), config.streamPickup());
            String replica = Tokens.id();
            var api = new ServerApi(cluster, replica).start(config.host(), config.port());
            URI advertised = config.advertised(api.port());
            cluster.streams().advertise(replica, advertised);
            log.info("server replica={} listening on {}:{} advertised={} store={}", replica, config.host(), api.port(),
                    advertised, store.shared() ? "postgresql" : "sqlite");
            return new Server(store, cluster, api, admin, join);
        } catch (RuntimeException e) {
            if (cluster != null) cluster.close();
            store.close();
            throw e;
        }
    }

    /** The port the API is served on. */
    public int port() {
        return api.port();
    }

    /** Whether this server runs the singleton loops. */
    public boolean leading() {
        return cluster.leading();
    }

    /** The file holding the admin token, when this server's data directory has it. */
    public Optional<Path> adminTokenFile() {
        return adminTokenFile;
    }

    /** The file holding the node join token, when this server's data directory has it. */
    public Optional<Path> joinTokenFile() {
        return joinTokenFile;
    }

    @Override
    public void close() {
        api.close();
        cluster.close();
        store.close();
    }
}
