package dev.bolero.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.bolero.api.http.ClientLimits;
import dev.bolero.api.testing.DrippingClients;
import dev.bolero.api.testing.DrippingClients.Footprint;
import dev.bolero.api.testing.DrippingClients.Part;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Hostile clients that drip — a byte every 2 s, never stalling long enough for the 30 s idle timeout — into their
 * request headers or into a body cannot hold the server's connections, threads or memory: the request-header deadline
 * and the minimum body rate ({@link ClientLimits#DEFAULT}) close them while other clients are answered; and one client
 * address cannot hold more than {@code --max-connections-per-client} connections.
 */
class DrippingClientsTest {
    private static final int DRIPPERS = 100;
    private static final Duration DRIP = Duration.ofSeconds(2);

    @TempDir
    Path dir;

    @Test
    void clientsDrippingHeadersOrBodiesAreClosedWithinTheLimitsWhileOthersAreAnswered() throws Exception {
        try (var cluster = OneNodeCluster.start(dir.resolve("server"))) {
            var http = new Http(cluster.port());
            assertThat(http.get("/v1/namespaces", OneNodeCluster.ADMIN).status()).isEqualTo(200);
            Footprint before = Footprint.now();
            try (var drippers = DrippingClients.start(InetAddress.getLoopbackAddress(),
                    new InetSocketAddress(InetAddress.getLoopbackAddress(), cluster.port()),
                    DRIPPERS, "/v1/namespaces", DRIPPERS, "POST /v1/namespaces HTTP/1.1\r\nHost: x\r\n"
                            + "Authorization: Bearer " + OneNodeCluster.ADMIN + "\r\nContent-Type: application/json\r\n",
                    DRIP)) {
                Thread.sleep(DRIP.multipliedBy(2)); // every dripper has dripped: the server is reading them all
                Footprint during = Footprint.now();
                int openDuring = drippers.open();
                for (int i = 0; i < 20; i++) {
                    assertThat(http.get("/v1/namespaces", OneNodeCluster.ADMIN).status()).as("another client")
                            .isEqualTo(200);
                }
                double bodiesClosed = drippers.awaitClosed(Part.BODY);
                double headersClosed = drippers.awaitClosed(Part.HEADERS);
                Footprint after = Footprint.now();
                System.out.printf("DRIPPING server API: %d header and %d body drippers (a byte every %d s, idle timeout "
                                + "30 s); %d open after %d s; bodies all closed after %.1f s (min rate %d B/s), "
                                + "headers after %.1f s (deadline %d s); 20 other requests answered meanwhile; "
                                + "before %s, during %s, after %s%n", DRIPPERS, DRIPPERS, DRIP.toSeconds(), openDuring,
                        DRIP.multipliedBy(2).toSeconds(), bodiesClosed, ClientLimits.DEFAULT.minBodyRate(),
                        headersClosed, ClientLimits.DEFAULT.headerTimeout().toSeconds(), before, during, after);
            }
        }
    }

    @Test
    void oneClientAddressHoldsNoMoreThanItsConnectionsAndOthersAreStillServed() throws Exception {
        var limits = new ClientLimits(ClientLimits.DEFAULT.headerTimeout(), ClientLimits.DEFAULT.minBodyRate(), 20,
                ClientLimits.DEFAULT.maxConnections());
        try (var cluster = OneNodeCluster.start(dir.resolve("server"), limits)) {
            // The hostile client comes from 127.0.0.2; the node and the test's own client from 127.0.0.1.
            InetAddress hostile = InetAddress.getByName("127.0.0.2");
            var server = new InetSocketAddress(InetAddress.getLoopbackAddress(), cluster.port());
            List<Socket> sockets = new ArrayList<>();
            try {
                for (int i = 0; i < 30; i++) sockets.add(DrippingClients.connect(hostile, server));
                await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
                        assertThat(sockets.stream().filter(DrippingClients::closedByServer).count())
                                .as("connections from 127.0.0.2 past its 20 closed at once").isEqualTo(10));
                var http = new Http(cluster.port());
                for (int i = 0; i < 5; i++) {
                    assertThat(http.get("/v1/namespaces", OneNodeCluster.ADMIN).status()).as("another client")
                            .isEqualTo(200);
                }
                long held = sockets.stream().filter(s -> !DrippingClients.closedByServer(s)).count();
                for (Socket s : sockets) s.close();
                // Once it holds fewer, the address is served again.
                await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
                    try (Socket again = DrippingClients.connect(hostile, server)) {
                        again.getOutputStream().write(("GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                                .getBytes(java.nio.charset.StandardCharsets.US_ASCII));
                        again.setSoTimeout(10_000);
                        String answer = new String(again.getInputStream().readAllBytes(),
                                java.nio.charset.StandardCharsets.US_ASCII);
                        assertThat(answer).startsWith("HTTP/1.1 200");
                    }
                });
                System.out.printf("CONNECTION CAP server API: 30 connections from 127.0.0.2 at a cap of 20: %d held, "
                        + "%d closed at once; 127.0.0.1 answered meanwhile; 127.0.0.2 served again once it closed "
                        + "its own%n", held, 30 - held);
            } finally {
                for (Socket s : sockets) s.close();
            }
        }
    }
}
