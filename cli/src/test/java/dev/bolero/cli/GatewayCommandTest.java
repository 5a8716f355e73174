package dev.bolero.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import dev.bolero.api.wire.CreateClusterMachine;
import dev.bolero.api.wire.FleetSpec;
import dev.bolero.client.BoleroClient;
import dev.bolero.core.MachineSpec;
import dev.bolero.server.FakeAgent;
import dev.bolero.server.Server;
import dev.bolero.server.ServerConfig;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code bolero gateway} in its own JVM against a real control plane whose fake node reports its machine on
 * 127.0.0.5, where a real HTTP server stands for it: the fleet answers by host name over HTTP, and over HTTPS with a
 * certificate from the development CA, checked against the CA's ca.pem.
 */
class GatewayCommandTest {
    private static final String ADMIN = "admin-token-gateway-command-0123456789";
    private static final String JOIN = "join-token-gateway-command-0123456789";
    private static final String HOST = "web.alpha.apps.test";

    @TempDir
    Path dir;

    private final List<AutoCloseable> open = new ArrayList<>();

    @AfterEach
    void closeAll() throws Exception {
        for (AutoCloseable c : open.reversed()) c.close();
    }

    @Test
    void theGatewayServesAFleetByHostNameOverHttpAndHttpsWithTheDevelopmentCa() throws Exception {
        Server server = Server.start(ServerConfig.of("127.0.0.1", 0, dir.resolve("server"))
                .withTokens(Optional.of(ADMIN), Optional.of(JOIN)));
        open.add(server);
        var admin = new BoleroClient(URI.create("http://127.0.0.1:" + server.port()), ADMIN);
        FakeAgent node = FakeAgent.join(server.port(), JOIN, "node-1").reportAddresses(id -> "127.0.0.5").live();
        open.add(node);
        var backend = HttpServer.create(new InetSocketAddress("127.0.0.5", 0), 16);
        backend.createContext("/", exchange -> {
            byte[] body = "hello from the machine".getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(200, body.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        });
        backend.start();
        open.add(() -> backend.stop(0));
        admin.createNamespace("alpha");
        admin.createFleet("alpha", new FleetSpec("web", null, null, Map.of(), MachineSpec.builder("registry.test/web:1")
                .httpService(MachineSpec.HttpService.on(backend.getAddress().getPort())).overlay()));
        admin.createMachine("alpha", "web", new CreateClusterMachine("m1", true, null, null, null));

        int http = freePort();
        int https = freePort();
        List<String> command = new ArrayList<>(CliProcess.javaCommand());
        command.addAll(List.of("gateway", "--server", "http://127.0.0.1:" + server.port(), "--token", ADMIN,
                "--domain", "apps.test", "--http-listen", "127.0.0.1:" + http, "--https-listen", "127.0.0.1:" + https,
                "--dev-ca", "--cert-dir", dir.resolve("gateway").toString()));
        Path log = dir.resolve("gateway.log");
        Process gateway = CliProcess.builder(dir, command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        open.add(() -> {
            gateway.destroy();
            if (!gateway.waitFor(20, TimeUnit.SECONDS)) gateway.destroyForcibly().waitFor();
        });

        String plain = await(log, () -> request(new Socket("127.0.0.1", http)));
        assertThat(plain).startsWith("HTTP/1.1 200").endsWith("hello from the machine");

        SSLContext trust = trusting(dir.resolve("gateway/dev-ca/ca.pem"));
        String secure = await(log, () -> {
            var raw = new Socket("127.0.0.1", https);
            var socket = (SSLSocket) trust.getSocketFactory().createSocket(raw, HOST, https, true);
            var parameters = socket.getSSLParameters();
            parameters.setServerNames(List.of(new SNIHostName(HOST)));
            parameters.setEndpointIdentificationAlgorithm("HTTPS");
            socket.setSSLParameters(parameters);
            return request(socket);
        });
        assertThat(secure).startsWith("HTTP/1.1 200").endsWith("hello from the machine");
    }

    /** Sends a GET for {@link #HOST} on {@code socket}; the whole answer. */
    private static String request(Socket socket) throws Exception {
        try (socket) {
            socket.setSoTimeout(20_000);
            OutputStream out = socket.getOutputStream();
            out.write(("GET / HTTP/1.1\r\nHost: " + HOST + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            String answer = new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!answer.startsWith("HTTP/1.1 200")) throw new IllegalStateException("not yet: " + answer.lines().findFirst().orElse(""));
            return answer;
        }
    }

    @FunctionalInterface
    private interface Attempt {
        String run() throws Exception;
    }

    /** Retries {@code attempt} until it answers, for at most 120 s (the JVM starts, then the routes and certificate come). */
    private static String await(Path log, Attempt attempt) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
        while (true) {
            try {
                return attempt.run();
            } catch (Exception e) {
                if (System.nanoTime() > deadline) {
                    throw new AssertionError("the gateway did not answer within 120 s; its log: " + Files.readString(log), e);
                }
                Thread.sleep(200);
            }
        }
    }

    private static SSLContext trusting(Path caFile) throws Exception {
        var store = KeyStore.getInstance(KeyStore.getDefaultType());
        store.load(null, null);
        try (InputStream in = Files.newInputStream(caFile)) {
            store.setCertificateEntry("ca", (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in));
        }
        var factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        factory.init(store);
        var context = SSLContext.getInstance("TLS");
        context.init(null, factory.getTrustManagers(), null);
        return context;
    }

    private static int freePort() throws Exception {
        try (var socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }

    @Test
    void thePrivateNetworkFlagsSayHowTheGatewayJoinsTheMesh() {
        var command = new GatewayCommand();
        new picocli.CommandLine(command).parseArgs("--domain", "apps.test", "--private-network-endpoint", "192.0.2.5:51821");
        var config = command.meshConfig(dir);
        assertThat(config.keyFile()).isEqualTo(dir.resolve("wireguard.key"));
        assertThat(config.link()).isEqualTo("blgw0");
        assertThat(config.listenPort()).as("the endpoint's port by default").isEqualTo(51821);
        assertThat(config.endpoint()).isEqualTo("192.0.2.5:51821");

        new picocli.CommandLine(command).parseArgs("--domain", "apps.test", "--private-network-endpoint", "192.0.2.5:51821",
                "--private-network-listen-port", "51900", "--private-network-link", "gw1");
        assertThat(command.meshConfig(dir).listenPort()).isEqualTo(51900);
        assertThat(command.meshConfig(dir).link()).isEqualTo("gw1");
    }
}
