package dev.bolero.server;

import dev.bolero.api.http.ClientLimits;
import dev.bolero.network.PrivateAddressing;
import dev.bolero.server.cluster.NodeRegistry;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * How a server runs.
 *
 * @param host the address to listen on
 * @param port the port; 0 for any free one
 * @param dataDir where {@code server.db} (SQLite), {@code admin.token} and {@code join.token} live
 * @param database a {@code postgresql://user:password@host:port/db} URL; SQLite in {@code dataDir} when empty
 * @param adminToken the admin token to use instead of a generated one ({@code BOLERO_ADMIN_TOKEN})
 * @param joinToken the node join token to use instead of a generated one ({@code BOLERO_JOIN_TOKEN})
 * @param timing heartbeat interval, fence and down deadlines told to nodes
 * @param loopInterval how often the leader runs the cluster loops
 * @param advertise the base URL agents reach this replica at (stream answers go there); when empty,
 *     {@code http://HOST:PORT} with the local host name for a wildcard {@code host}
 * @param streamPickup how long a logs, events or exec request waits for the node's agent before {@code 503}
 * @param tenantRate how many requests each namespace token may make
 * @param clientLimits what a client of the API may hold: head and body deadlines, connections per address
 * @param privateNetwork the private network's address plan for a new cluster; empty for the cluster's (see
 *     {@code docs/private-network.md}: it is fixed once nodes hold addresses of it)
 */
public record ServerConfig(String host, int port, Path dataDir, Optional<String> database, Optional<String> adminToken,
                           Optional<String> joinToken, NodeRegistry.Timing timing, Duration loopInterval,
                           Optional<URI> advertise, Duration streamPickup, RateLimit tenantRate,
                           ClientLimits clientLimits, Optional<PrivateAddressing> privateNetwork) {
    /**
     * A token's request rate: {@code perSecond} sustained, up to {@code burst} at once; {@link #NONE} for no limit.
     */
    public record RateLimit(int perSecond, int burst) {
        public static final RateLimit NONE = new RateLimit(0, 0);
        /** The default for namespace tokens: 100 a second, bursts of 200. */
        public static final RateLimit DEFAULT = new RateLimit(100, 200);

        public RateLimit {
            if (perSecond < 0 || burst < perSecond || (perSecond == 0) != (burst == 0)) {
                throw new IllegalArgumentException("a rate limit is RATE[:BURST] with 1 <= RATE <= BURST, or 0 for "
                        + "none; got " + perSecond + ":" + burst);
            }
        }

        public boolean limited() {
            return perSecond > 0;
        }
    }

    public ServerConfig {
        Objects.requireNonNull(host, "host");
        Objects.requireNonNull(dataDir, "dataDir");
        Objects.requireNonNull(database, "database");
        Objects.requireNonNull(adminToken, "adminToken");
        Objects.requireNonNull(joinToken, "joinToken");
        Objects.requireNonNull(timing, "timing");
        Objects.requireNonNull(loopInterval, "loopInterval");
        Objects.requireNonNull(advertise, "advertise");
        Objects.requireNonNull(streamPickup, "streamPickup");
        Objects.requireNonNull(tenantRate, "tenantRate");
        Objects.requireNonNull(clientLimits, "clientLimits");
        Objects.requireNonNull(privateNetwork, "privateNetwork");
        advertise.ifPresent(u -> {
            if (!"http".equals(u.getScheme()) && !"https".equals(u.getScheme()) || u.getHost() == null) {
                throw new IllegalArgumentException("advertise URL must be http(s)://host[:port], got " + u);
            }
        });
        adminToken.ifPresent(t -> checkToken("BOLERO_ADMIN_TOKEN", t));
        joinToken.ifPresent(t -> checkToken("BOLERO_JOIN_TOKEN", t));
    }

    /**
     * The production defaults: heartbeats every 5 s, fence after 20 s, down after 30 s, loops every second, streams
     * wait 10 s for their agent, {@linkplain ClientLimits#DEFAULT default client limits}.
     */
    public static ServerConfig of(String host, int port, Path dataDir) {
        return new ServerConfig(host, port, dataDir, Optional.empty(), Optional.empty(), Optional.empty(),
                new NodeRegistry.Timing(Duration.ofSeconds(5), Duration.ofSeconds(30), Duration.ofSeconds(20)),
                Duration.ofSeconds(1), Optional.empty(), Duration.ofSeconds(10), RateLimit.DEFAULT,
                ClientLimits.DEFAULT, Optional.empty());
    }

    public ServerConfig withDatabase(String url) {
        return new ServerConfig(host, port, dataDir, Optional.of(url), adminToken, joinToken, timing, loopInterval,
                advertise, streamPickup, tenantRate, clientLimits, privateNetwork);
    }

    public ServerConfig withTokens(Optional<String> admin, Optional<String> join) {
        return new ServerConfig(host, port, dataDir, database, admin, join, timing, loopInterval, advertise,
                streamPickup, tenantRate, clientLimits, privateNetwork);
    }

    public ServerConfig withTiming(NodeRegistry.Timing timing, Duration loopInterval) {
        return new ServerConfig(host, port, dataDir, database, adminToken, joinToken, timing, loopInterval, advertise,
                streamPickup, tenantRate, clientLimits, privateNetwork);
    }

    public ServerConfig withAdvertise(URI url) {
        return new ServerConfig(host, port, dataDir, database, adminToken, joinToken, timing, loopInterval,
                Optional.of(url), streamPickup, tenantRate, clientLimits, privateNetwork);
    }

    public ServerConfig withTenantRate(RateLimit rate) {
        return new ServerConfig(host, port, dataDir, database, adminToken, joinToken, timing, loopInterval, advertise,
                streamPickup, rate, clientLimits, privateNetwork);
    }

    public ServerConfig withStreamPickup(Duration pickup) {
        return new ServerConfig(host, port, dataDir, database, adminToken, joinToken, timing, loopInterval, advertise,
                pickup, tenantRate, clientLimits, privateNetwork);
    }

    public ServerConfig withClientLimits(ClientLimits limits) {
        return new ServerConfig(host, port, dataDir, database, adminToken, joinToken, timing, loopInterval, advertise,
                streamPickup, tenantRate, limits, privateNetwork);
    }

    /** This config with the private network's address plan {@code plan} (for a new cluster). */
    public ServerConfig withPrivateNetwork(PrivateAddressing plan) {
        return new ServerConfig(host, port, dataDir, database, adminToken, joinToken, timing, loopInterval, advertise,
                streamPickup, tenantRate, clientLimits, Optional.of(plan));
    }

    /** The URL agents reach this replica at, once it serves on {@code boundPort}. */
    URI advertised(int boundPort) {
        if (advertise.isPresent()) return advertise.get();
        String h = host;
        if (h.isEmpty() || h.equals("0.0.0.0") || h.equals("::") || h.equals("[::]")) {
            try {
                h = java.net.InetAddress.getLocalHost().getCanonicalHostName();
            } catch (java.net.UnknownHostException e) {
                throw new IllegalStateException("advertise URL: the local host name does not resolve ("
                        + e.getMessage() + "); set one (--advertise)", e);
            }
        } else if (h.contains(":") && !h.startsWith("[")) {
            h = "[" + h + "]";
        }
        return URI.create("http://" + h + ":" + boundPort);
    }

    private static void checkToken(String name, String token) {
        if (token.length() < 16 || !token.matches("[A-Za-z0-9._~+/=-]+")) {
            throw new IllegalArgumentException(name + " must be at least 16 token characters");
        }
    }
}
