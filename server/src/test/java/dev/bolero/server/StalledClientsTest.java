package dev.bolero.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.bolero.api.testing.DrippingClients;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Hostile clients that open connections and stall — mid-headers or mid-body — cannot pin the server: while they hang
 * on, other clients are answered, and the server closes each stalled connection once its idle timeout passes.
 */
class StalledClientsTest {
    private static final int STALLED = 200;

    @TempDir
    Path dir;

    @Test
    void stalledConnectionsNeitherBlockOtherClientsNorStayOpen() throws Exception {
        try (var cluster = OneNodeCluster.start(dir.resolve("server"))) {
            var http = new Http(cluster.port());
            List<Socket> stalled = new ArrayList<>();
            try {
                for (int i = 0; i < STALLED; i++) {
                    var s = new Socket(InetAddress.getLoopbackAddress(), cluster.port());
                    OutputStream out = s.getOutputStream();
                    // Half the connections stop inside their headers, half inside a body they announced.
                    String request = i % 2 == 0 ? "GET /v1/namespaces HTTP/1.1\r\nHost: x\r\nAuthoriz"
                            : "POST /v1/namespaces HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + OneNodeCluster.ADMIN
                                    + "\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"na";
                    out.write(request.getBytes(StandardCharsets.US_ASCII));
                    out.flush();
                    stalled.add(s);
                }
                for (int i = 0; i < 20; i++) {
                    assertThat(http.get("/v1/namespaces", OneNodeCluster.ADMIN).status()).as("another client")
                            .isEqualTo(200);
                }
                long began = System.nanoTime();
                await().atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofSeconds(1)).untilAsserted(() -> {
                    int open = 0;
                    for (Socket s : stalled) if (!DrippingClients.closedByServer(s)) open++;
                    assertThat(open).as("stalled connections the server still holds").isZero();
                });
                System.out.printf("STALLED %d connections closed by the server after %.1f s%n", STALLED,
                        (System.nanoTime() - began) / 1e9);
            } finally {
                for (Socket s : stalled) s.close();
            }
        }
    }
}
