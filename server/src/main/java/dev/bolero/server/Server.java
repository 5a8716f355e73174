package dev.bolero.server;

import dev.bolero.server.audit.AuditLog;
import dev.bolero.server.cluster.Bootstrap;
import dev.bolero.server.cluster.Cluster;
import dev.bolero.server.cluster.Tokens;
import dev.bolero.api.http.Telemetry;
import dev.bolero.server.http.ServerApi;
import dev.bolero.server.secrets.MasterKeys;
import dev.bolero.server.secrets.Secrets;
import dev.bolero.server.store.ServerStore;
import dev.bolero.server.store.TokenScope;
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
    private final Telemetry telemetry;
    private final AuditLog audit;
    private final Optional<Path> adminTokenFile;
    private final Optional<Path> joinTokenFile;

    private Server(ServerStore store, Cluster cluster, ServerApi api, Telemetry telemetry, AuditLog audit,
                   Optional<Path> adminTokenFile, Optional<Path> joinTokenFile) {
        this.store = store;
        this.cluster = cluster;
        this.api = api;
        this.telemetry = telemetry;
        this.audit = audit;
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
        Telemetry telemetry = null;
        AuditLog audit = null;
        try {
            Clock clock = Clock.systemUTC();
            var admin = Bootstrap.ensure(store, clock, config.dataDir(), TokenScope.ADMIN,
                    config.adminToken());
            var join = Bootstrap.ensure(store, clock, config.dataDir(), TokenScope.JOIN, config.joinToken());
            Bootstrap.ensureDefaultNamespace(store, clock);
            var secrets = new Secrets(store, clock, MasterKeys.forServer(config.dataDir(), System.getenv()));
            secrets.rewrapAll();
            cluster = Cluster.start(store, clock, config.timing(), config.loopInterval(), config.streamPickup(),
                    secrets, config.privateNetwork());
            String replica = Tokens.id();
            Cluster started = cluster;
            telemetry = new Telemetry("server", () -> ready(started));
            cluster.bindMetrics(telemetry.registry());
            audit = new AuditLog(store, clock);
            var api = new ServerApi(cluster, secrets, audit, telemetry, replica, config.tenantRate(),
                    config.clientLimits())
                    .start(config.host(), config.port());
            URI advertised = config.advertised(api.port());
            cluster.streams().advertise(replica, advertised);
            log.info("server replica={} listening on {}:{} advertised={} store={}", replica, config.host(), api.port(),
                    advertised, store.shared() ? "postgresql" : "sqlite");
            return new Server(store, cluster, api, telemetry, audit, admin, join);
        } catch (RuntimeException e) {
            if (telemetry != null) telemetry.close();
            if (audit != null) audit.close();
            if (cluster != null) cluster.close();
            store.close();
            throw e;
        }
    }

    /** Why this replica cannot serve now (its store does not answer); empty when it can. */
    private static Optional<String> ready(Cluster cluster) {
        try {
            cluster.index();
            return Optional.empty();
        } catch (RuntimeException e) {
            return Optional.of("the store does not answer: " + e.getMessage());
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
        audit.close();
        cluster.close();
        store.close();
        telemetry.close();
    }
}
