package dev.bolero.api.http;

import java.time.Duration;
import java.util.Objects;
import java.util.function.Predicate;
import org.eclipse.jetty.server.AbstractConnector;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.NetworkConnectionLimit;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.util.component.LifeCycle;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What a client of one of Bolero's HTTP listeners (the server's API, a node's API, the gateway) may hold, so that slow,
 * stalled or dripping clients — ones that send a byte every few seconds, never tripping the idle timeout — cannot keep
 * connections, threads or buffered memory forever. Each limit is a command-line flag of every serving command, named
 * in what the listener logs when it acts; 0 turns a limit off.
 *
 * @param headerTimeout how long a request's head (request line and headers), and a TLS handshake, may take from its
 *     first byte; the connection is closed when it has not arrived by then ({@code --request-header-timeout})
 * @param minBodyRate the fewest bytes a second a request body must arrive at, averaged from when the handler first
 *     waits for it; a slower body fails its read and its connection is closed ({@code --min-request-body-rate})
 * @param maxConnectionsPerClient how many connections one client address may hold open at once; more are closed as
 *     soon as they are accepted ({@code --max-connections-per-client})
 * @param maxConnections how many connections the listener holds at once; beyond, it stops accepting until one closes
 *     (the rest wait in the kernel's accept queue) ({@code --max-connections})
 */
public record ClientLimits(Duration headerTimeout, long minBodyRate, int maxConnectionsPerClient, int maxConnections) {
    private static final Logger log = LoggerFactory.getLogger(ClientLimits.class);

    /** The default of {@code --request-header-timeout}, seconds. */
    public static final int DEFAULT_HEADER_TIMEOUT_S = 10;
    /** The default of {@code --min-request-body-rate}, bytes a second. */
    public static final int DEFAULT_MIN_BODY_RATE = 256;
    /** The default of {@code --max-connections-per-client}. */
    public static final int DEFAULT_MAX_CONNECTIONS_PER_CLIENT = 256;
    /** The default of {@code --max-connections}. */
    public static final int DEFAULT_MAX_CONNECTIONS = 10_000;

    /**
     * Request heads within 10 s, bodies at 256 bytes/s or faster, 256 connections per client address, 10,000 in all.
     * A dripping client gets 10 s per connection and 256 connections; honest clients, even on slow links, send a head
     * in one packet and a body far faster than 256 bytes/s.
     */
    public static final ClientLimits DEFAULT = new ClientLimits(Duration.ofSeconds(DEFAULT_HEADER_TIMEOUT_S),
            DEFAULT_MIN_BODY_RATE, DEFAULT_MAX_CONNECTIONS_PER_CLIENT, DEFAULT_MAX_CONNECTIONS);
    /** No limits: what a listener did before these existed (idle timeout only). */
    public static final ClientLimits NONE = new ClientLimits(Duration.ZERO, 0, 0, 0);

    public ClientLimits {
        Objects.requireNonNull(headerTimeout, "headerTimeout");
        if (headerTimeout.isNegative()) {
            throw new IllegalArgumentException("--request-header-timeout must be 0 (none) or more, got " + headerTimeout);
        }
        if (minBodyRate < 0) {
            throw new IllegalArgumentException("--min-request-body-rate must be 0 (none) or more, got " + minBodyRate);
        }
        if (maxConnectionsPerClient < 0) {
            throw new IllegalArgumentException("--max-connections-per-client must be 0 (none) or more, got "
                    + maxConnectionsPerClient);
        }
        if (maxConnections < 0) {
            throw new IllegalArgumentException("--max-connections must be 0 (none) or more, got " + maxConnections);
        }
    }

    /**
     * Applies these limits to {@code server}'s connectors (those it has when it starts) and wraps its handler — the one
     * it has now, or, when none, the one later set inside the wrapper (Javalin does so) — in the body rate check.
     * Requests that {@code slowBodyAllowed} accepts (a stream that is legitimately quiet for long) skip that check.
     * Call before the server starts.
     */
    public void applyTo(Server server, Predicate<Request> slowBodyAllowed) {
        Objects.requireNonNull(slowBodyAllowed, "slowBodyAllowed");
        if (minBodyRate > 0) {
            server.setHandler(new BodyRateHandler(server.getHandler(), minBodyRate, slowBodyAllowed));
        }
        if (maxConnections > 0) {
            server.addBean(new Limit(maxConnections, server));
        }
        var perClient = maxConnectionsPerClient > 0 ? new ClientConnectionLimit(maxConnectionsPerClient) : null;
        server.addEventListener(new LifeCycle.Listener() {
            @Override
            public void lifeCycleStarting(LifeCycle event) {
                for (Connector connector : server.getConnectors()) {
                    if (!(connector instanceof AbstractConnector c)) continue;
                    if (perClient != null) c.addBean(perClient);
                    if (headerTimeout.isPositive()) c.addBean(new RequestHeadDeadline(c, headerTimeout));
                }
            }
        });
    }

    /** Jetty's limit on connections, saying which flag it is when it acts. */
    private static final class Limit extends NetworkConnectionLimit {
        Limit(int max, Server server) {
            super(max, server);
        }

        @Override
        protected void limit() {
            log.warn("holding {} connections, the most this listener takes (--max-connections); new ones wait until "
                    + "one closes", getMaxNetworkConnectionCount());
            super.limit();
        }
    }
}
