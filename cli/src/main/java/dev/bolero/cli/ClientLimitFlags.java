package dev.bolero.cli;

import dev.bolero.api.http.ClientLimits;
import java.time.Duration;
import picocli.CommandLine.Option;

/**
 * The flags bounding what one client may hold on a command's HTTP listener ({@code bolero server}, {@code agent},
 * {@code gateway}): slow, stalled or dripping clients cannot keep connections, threads or memory. 0 turns
 * a limit off.
 */
final class ClientLimitFlags {
    @Option(names = "--request-header-timeout", paramLabel = "S", defaultValue = "" + ClientLimits.DEFAULT_HEADER_TIMEOUT_S,
            description = "seconds a request's headers (and a TLS handshake) may take from their first byte; the "
                    + "connection is closed after (default ${DEFAULT-VALUE})")
    long headerTimeoutSeconds;

    @Option(names = "--min-request-body-rate", paramLabel = "BYTES_PER_S", defaultValue = "" + ClientLimits.DEFAULT_MIN_BODY_RATE,
            description = "the slowest a request body may arrive; a slower one is cut off (default ${DEFAULT-VALUE})")
    long minBodyRate;

    @Option(names = "--max-connections-per-client", paramLabel = "N", defaultValue = "" + ClientLimits.DEFAULT_MAX_CONNECTIONS_PER_CLIENT,
            description = "connections one client address may hold open; more are closed at once (default "
                    + "${DEFAULT-VALUE}; behind a proxy or load balancer all clients share its address)")
    int maxConnectionsPerClient;

    @Option(names = "--max-connections", paramLabel = "N", defaultValue = "" + ClientLimits.DEFAULT_MAX_CONNECTIONS,
            description = "connections the listener holds at once; beyond, new ones wait to be accepted (default "
                    + "${DEFAULT-VALUE})")
    int maxConnections;

    ClientLimits limits() {
        return new ClientLimits(Duration.ofSeconds(headerTimeoutSeconds), minBodyRate, maxConnectionsPerClient,
                maxConnections);
    }
}
