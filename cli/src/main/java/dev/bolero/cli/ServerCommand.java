package dev.bolero.cli;

import dev.bolero.server.Server;
import dev.bolero.server.ServerConfig;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code bolero server}: runs a control-plane server until interrupted. {@code BOLERO_ADMIN_TOKEN} and
 * {@code BOLERO_JOIN_TOKEN} set the admin and join tokens instead of generated ones.
 */
@Command(name = "server", mixinStandardHelpOptions = true, description = "Run a control-plane server.")
final class ServerCommand implements Callable<Integer> {
    @Mixin
    LogFormat logFormat;

    @Option(names = "--listen", defaultValue = "127.0.0.1:7080", description = "host:port of the /v1 API (default ${DEFAULT-VALUE})")
    String listen;

    @Option(names = "--data-dir", defaultValue = "/var/lib/bolero-server", description = "where the server keeps server.db and its token files (default ${DEFAULT-VALUE})")
    Path dataDir;

    @Option(names = "--db", description = "postgresql://user:password@host:port/database; several servers may share one (default: SQLite in the data dir)")
    String database;

    @Option(names = "--advertise", paramLabel = "URL", description = "the URL agents reach this server at, for logs and exec (default: http://HOST:PORT of --listen, the host name for 0.0.0.0)")
    java.net.URI advertise;

    @Option(names = "--rate-limit", paramLabel = "RATE[:BURST]", defaultValue = "100:200", description = "requests a "
            + "second each namespace token may make, and its burst (default ${DEFAULT-VALUE}); 0: no limit")
    String rateLimit;

    @Mixin
    ClientLimitFlags clientLimits;

    @Mixin
    PrivateNetworkPlanFlags privateNetwork;

    @Override
    public Integer call() throws Exception {
        int colon = listen.lastIndexOf(':');
        if (colon < 0) throw new IllegalArgumentException("--listen must be host:port, got '" + listen + "'");
        var config = ServerConfig.of(listen.substring(0, colon), Integer.parseInt(listen.substring(colon + 1)),
                        dataDir.toAbsolutePath())
                .withTokens(env("BOLERO_ADMIN_TOKEN"), env("BOLERO_JOIN_TOKEN"));
        if (database != null) config = config.withDatabase(database);
        if (advertise != null) config = config.withAdvertise(advertise);
        config = privateNetwork.applyTo(config.withTenantRate(rate(rateLimit)).withClientLimits(clientLimits.limits()));
        CountDownLatch stopped = new CountDownLatch(1);
        try (Server server = Server.start(config)) {
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                server.close();
                stopped.countDown();
            }, "server-shutdown"));
            System.out.printf("bolero server listening on http://%s:%d (data dir %s, store %s)%n",
                    listen.substring(0, colon), server.port(), config.dataDir(),
                    database == null ? "sqlite" : "postgresql");
            System.out.printf("web console: http://%s:%d/ui%n", listen.substring(0, colon), server.port());
            server.adminTokenFile().ifPresent(f -> System.out.println("admin token: " + f));
            server.joinTokenFile().ifPresent(f -> System.out.println("join token:  " + f));
            stopped.await();
        }
        return 0;
    }

    /** {@code RATE[:BURST]} (the burst defaults to twice the rate), or {@code 0}. */
    static ServerConfig.RateLimit rate(String value) {
        var m = java.util.regex.Pattern.compile("([0-9]{1,6})(?::([0-9]{1,7}))?").matcher(value);
        if (!m.matches()) throw new IllegalArgumentException("--rate-limit must be RATE[:BURST], got '" + value + "'");
        int perSecond = Integer.parseInt(m.group(1));
        if (perSecond == 0) return ServerConfig.RateLimit.NONE;
        return new ServerConfig.RateLimit(perSecond, m.group(2) == null ? 2 * perSecond
                : Integer.parseInt(m.group(2)));
    }

    private static Optional<String> env(String name) {
        return Optional.ofNullable(System.getenv(name)).filter(v -> !v.isBlank());
    }
}
