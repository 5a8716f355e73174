package dev.bolero.agent;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bolero.api.http.ClientLimits;
import dev.bolero.api.testing.DrippingClients;
import dev.bolero.api.testing.DrippingClients.Footprint;
import dev.bolero.api.testing.DrippingClients.Part;
import dev.bolero.runtime.qemu.QemuDriver;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The node API against clients that drip a byte every 2 s into their headers or into a create's body, never idle
 * long enough for the idle timeout: the default {@link ClientLimits} close them while other clients are answered.
 */
class DrippingClientsTest {
    private static final int DRIPPERS = 50;

    @TempDir
    Path dir;

    @Test
    void clientsDrippingHeadersOrBodiesAreClosedWhileOthersAreAnswered() throws Exception {
        try (Agent agent = Agent.start(new AgentConfig("127.0.0.1", 0, dir, Set.of(), QemuDriver.Accel.AUTO,
                Optional.empty(), Duration.ofSeconds(60)));
             var http = HttpClient.newHttpClient()) {
            var list = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + agent.port() + "/api/v1/machines"))
                    .build();
            Footprint before = Footprint.now();
            try (var drippers = DrippingClients.start(InetAddress.getLoopbackAddress(),
                    new InetSocketAddress(InetAddress.getLoopbackAddress(), agent.port()), DRIPPERS,
                    "/api/v1/machines", DRIPPERS,
                    "POST /api/v1/machines HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n",
                    Duration.ofSeconds(2))) {
                Thread.sleep(4_000);
                Footprint during = Footprint.now();
                for (int i = 0; i < 20; i++) {
                    assertThat(http.send(list, HttpResponse.BodyHandlers.ofString()).statusCode())
                            .as("another client").isEqualTo(200);
                }
                double bodiesClosed = drippers.awaitClosed(Part.BODY);
                double headersClosed = drippers.awaitClosed(Part.HEADERS);
                System.out.printf("DRIPPING node API: %d header and %d body drippers (a byte every 2 s); bodies all "
                                + "closed after %.1f s, headers after %.1f s; 20 other requests answered meanwhile; "
                                + "before %s, during %s, after %s%n", DRIPPERS, DRIPPERS, bodiesClosed, headersClosed,
                        before, during, Footprint.now());
            }
        }
    }
}
