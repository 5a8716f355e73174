package dev.bolero.api.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.bolero.api.testing.DrippingClients;
import dev.bolero.api.testing.DrippingClients.Part;
import io.javalin.Javalin;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import org.eclipse.jetty.server.Request;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** {@link ClientLimits} on a real Javalin app: what each limit closes, and what it leaves alone. */
class ClientLimitsTest {
    private static final ClientLimits TIGHT = new ClientLimits(Duration.ofSeconds(2), 256, 0, 0);
    private Javalin app;

    private int serve(ClientLimits limits) {
        app = Javalin.create(config -> {
            config.concurrency.useVirtualThreads = true;
            config.startup.showJavalinBanner = false;
            config.jetty.modifyServer(server -> limits.applyTo(server,
                    request -> Request.getPathInContext(request).equals("/slow")));
            config.routes.post("/echo", ctx -> ctx.result(ctx.body()));
            config.routes.post("/slow", ctx -> ctx.result(ctx.body()));
            config.routes.get("/hello", ctx -> ctx.result("hello"));
        }).start("127.0.0.1", 0);
        return app.port();
    }

    @AfterEach
    void stop() {
        if (app != null) app.stop();
    }

    @Test
    void headersAndBodiesDrippedPastTheLimitsAreClosedWhileAWholeRequestIsAnswered() throws Exception {
        int port = serve(TIGHT);
        var target = new InetSocketAddress(InetAddress.getLoopbackAddress(), port);
        try (var drippers = DrippingClients.start(InetAddress.getLoopbackAddress(), target, 5, "/hello", 5,
                "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n", Duration.ofMillis(500))) {
            // Honest clients keep sending whole bodies meanwhile: a dripper's rate is its own, not the listener's.
            var http = HttpClient.newHttpClient();
            var echo = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/echo"))
                    .POST(HttpRequest.BodyPublishers.ofString("x".repeat(100_000))).build();
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100)).untilAsserted(() -> {
                assertThat(http.send(echo, HttpResponse.BodyHandlers.ofString()).body()).hasSize(100_000);
                assertThat(drippers.open()).isZero();
            });
        }
    }

    @Test
    void aRequestTheListenerNamesMayBringItsBodySlowly() throws Exception {
        int port = serve(TIGHT);
        var target = new InetSocketAddress(InetAddress.getLoopbackAddress(), port);
        try (var drippers = DrippingClients.start(InetAddress.getLoopbackAddress(), target, 0, "/", 3,
                "POST /slow HTTP/1.1\r\nHost: x\r\n", Duration.ofMillis(500))) {
            Thread.sleep(5_000);
            assertThat(drippers.open(Part.BODY)).as("slow bodies of /slow, 5 s on").isEqualTo(3);
        }
    }

    @Test
    void pastItsConnectionsTheListenerAcceptsTheNextOnlyWhenOneCloses() throws Exception {
        int port = serve(new ClientLimits(Duration.ZERO, 0, 0, 5));
        var target = new InetSocketAddress(InetAddress.getLoopbackAddress(), port);
        var held = new ArrayList<Socket>();
        try {
            for (int i = 0; i < 5; i++) held.add(DrippingClients.connect(InetAddress.getLoopbackAddress(), target));
            try (Socket sixth = DrippingClients.connect(InetAddress.getLoopbackAddress(), target)) {
                sixth.getOutputStream().write("GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
                        .getBytes(StandardCharsets.US_ASCII));
                sixth.setSoTimeout(1_000);
                assertThatThrownBy(() -> sixth.getInputStream().read()).as("the sixth, while five are held")
                        .isInstanceOf(SocketTimeoutException.class);
                held.removeFirst().close();
                sixth.setSoTimeout(30_000);
                assertThat(new String(sixth.getInputStream().readAllBytes(), StandardCharsets.US_ASCII))
                        .startsWith("HTTP/1.1 200").endsWith("hello");
            }
        } finally {
            for (Socket s : held) s.close();
        }
    }
}
