package dev.bolero.agent.checks;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import dev.bolero.core.MachineSpec;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The node's probes against real sockets on loopback. */
class NetworkProbeTest {
    private final NetworkProbe probe = new NetworkProbe();
    private HttpServer server;

    @BeforeEach
    void startServer() throws Exception {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", exchange -> {
            String path = exchange.getRequestURI().getPath();
            int status = switch (path) {
                case "/ok" -> 200;
                case "/moved" -> 302;
                default -> 503;
            };
            if (path.equals("/header")) {
                status = "yes".equals(exchange.getRequestHeaders().getFirst("X-Probe"))
                        && exchange.getRequestMethod().equals("HEAD") ? 204 : 400;
            }
            byte[] body = ("answer to " + path + " " + "x".repeat(2000)).getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(status, status == 204 || exchange.getRequestMethod().equals("HEAD") ? -1
                    : body.length);
            if (status != 204 && !exchange.getRequestMethod().equals("HEAD")) exchange.getResponseBody().write(body);
            exchange.close();
        });
        server.start();
    }

    @AfterEach
    void stop() {
        server.stop(0);
        probe.close();
    }

    /** {@code check} as a machine's spec holds it: its defaults filled in. */
    private static MachineSpec.Check filled(MachineSpec.Check check) {
        return MachineSpec.builder("x").check("c", check).build().checks().get("c");
    }

    private int port() {
        return server.getAddress().getPort();
    }

    @Test
    void anHttpCheckPassesOn2xxAnd3xxAndShowsTheStatusAndTheBodysStart() throws Exception {
        var ok = probe.run(filled(MachineSpec.Check.http(port(), "/ok")), "127.0.0.1");
        var moved = probe.run(filled(MachineSpec.Check.http(port(), "/moved")), "127.0.0.1");
        var down = probe.run(filled(MachineSpec.Check.http(port(), "/down")), "127.0.0.1");

        assertThat(ok.passing()).isTrue();
        assertThat(ok.output()).startsWith("HTTP 200: answer to /ok");
        assertThat(moved.passing()).as("a redirect is not followed, and passes").isTrue();
        assertThat(down.passing()).isFalse();
        assertThat(down.output()).startsWith("HTTP 503: answer to /down").hasSizeLessThan(600);
    }

    @Test
    void anHttpCheckSendsItsMethodAndHeaders() throws Exception {
        var check = new MachineSpec.Check(MachineSpec.Check.Type.HTTP, port(), "/header", "HEAD",
                Map.of("X-Probe", "yes"), null, 5, 2, 0);

        assertThat(probe.run(filled(check), "127.0.0.1"))
                .isEqualTo(new CheckResult(true, "HTTP 204"));
    }

    @Test
    void aCheckOfAClosedPortFailsNamingWhy() throws Exception {
        int closed;
        try (var s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closed = s.getLocalPort();
        }
        var http = probe.run(filled(MachineSpec.Check.http(closed, "/")), "127.0.0.1");
        var tcp = probe.run(MachineSpec.Check.tcp(closed).every(null, 1, null), "127.0.0.1");

        assertThat(http.passing()).isFalse();
        assertThat(http.output()).startsWith("request failed");
        assertThat(tcp.passing()).isFalse();
        assertThat(tcp.output()).startsWith("connect failed").containsIgnoringCase("refused");
        assertThat(probe.run(MachineSpec.Check.tcp(port()).every(null, 1, null), "127.0.0.1"))
                .isEqualTo(new CheckResult(true, "connected to port " + port()));
    }

    @Test
    void anHttpCheckThatGetsNoAnswerFailsAtItsTimeout() throws Exception {
        try (var silent = new ServerSocket(0, 10, InetAddress.getLoopbackAddress())) { // accepts, never answers
            var result = probe.run(filled(MachineSpec.Check.http(silent.getLocalPort(), "/").every(null, 1, null)),
                    "127.0.0.1");

            assertThat(result).isEqualTo(new CheckResult(false, "no answer within 1 s"));
        }
    }

    @Test
    void anExecCheckIsNotTheNodesToRun() {
        assertThatThrownBy(() -> probe.run(MachineSpec.Check.exec("true"), "127.0.0.1"))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
